// app.js: the demo page's Alpine components. Every SSE subscription
// goes through window.sseManager; HTMX fragments are refreshed with
// camelCase custom events (never 'sse:...' from here).

function connectionBadge() {
	return {
		state: (window.sseManager && window.sseManager.state) || 'idle',
		init() {
			document.addEventListener('sse-state', (e) => { this.state = e.detail; });
		},
		get label() {
			return { idle: 'idle', connecting: 'connecting…', open: 'live',
				reconnecting: 'reconnecting…' }[this.state] || this.state;
		},
	};
}

function libraryPage() {
	return {
		toasts: [],
		init() {
			window.waitForSSEManager(() => {
				window.sseManager.connect('demos', (data, event) => {
					if (event.type === 'installed') {
						htmx.trigger('#demo-grid', 'demoInstalled');
					} else if (event.type === 'uninstalled') {
						htmx.trigger('#demo-grid', 'demoUninstalled');
					} else if (event.type === 'operation_completed') {
						this.toast(`${data.demo_id}: ${data.status}`, data.status);
					}
				});
				window.sseManager.connect('validation', (data, event) => {
					htmx.trigger('#validation-results', 'validationChanged');
					if (event.type === 'validation_complete') {
						this.toast(`validation: ${data.passed} passed, ${data.failed} failed`,
							data.failed > 0 ? 'failed' : 'succeeded');
					} else if (event.type === 'validation_error') {
						this.toast('validation error: ' + data.error, 'failed');
					}
				});
			});
		},
		toast(text, kind) {
			const t = { id: Date.now() + Math.random(), text: text, kind: kind };
			this.toasts.push(t);
			setTimeout(() => { this.toasts = this.toasts.filter((x) => x !== t); }, 6000);
		},
	};
}

function logPanel() {
	return {
		max: 200,
		init() {
			window.waitForSSEManager(() => {
				window.sseManager.connect('logs', (data, event) => {
					const list = this.$refs.lines;
					const li = document.createElement('li');
					li.dataset.id = event.lastEventId;
					const src = document.createElement('span');
					src.className = 'src';
					src.textContent = data.source;
					const line = document.createElement('span');
					line.className = 'line';
					line.textContent = data.line;
					li.append(src, ' ', line);
					list.appendChild(li);
					while (list.children.length > this.max) list.firstElementChild.remove();
					list.scrollTop = list.scrollHeight;
				});
			});
		},
	};
}
