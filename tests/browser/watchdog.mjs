// The heartbeat watchdog, against a stream started with a 1 s heartbeat
// (check_browser sets PGSSE_HEARTBEAT). The heartbeat is an event that
// JavaScript sees, with no id; when the stream process stops answering
// (SIGSTOP: its connections stay open and silent), the manager notices
// within two heartbeats, says so in the badge, reconnects from its last
// id, and after SIGCONT every event arrives exactly once.
import { run, base, publish, assert } from './browser.mjs';

await run('heartbeat is an event', async (page) => {
	await page.goto(base + '/');
	// The first comes with the stream's start, the next from the pump
	// once the stream was idle for the interval.
	const beats = await page.evaluate(() => new Promise((resolve) => {
		const es = new EventSource('/api/sse/logs');
		const got = [];
		const t = setTimeout(() => { es.close(); resolve(got); }, 8000);
		es.addEventListener('pgsse.heartbeat', (e) => {
			got.push({ data: e.data, id: e.lastEventId });
			if (got.length < 2) return;
			clearTimeout(t);
			es.close();
			resolve(got);
		});
	}));
	assert(beats.length === 2, 'two pgsse.heartbeat events within 8 s: ' + JSON.stringify(beats));
	for (const b of beats) {
		const data = JSON.parse(b.data);
		assert(data.interval === 1 && Number.isInteger(data.time), 'heartbeat data: ' + b.data);
	}
	assert(beats[0].id !== '' && beats[1].id === beats[0].id,
		'heartbeats carry no id of their own: ' + JSON.stringify(beats));
});

await run('watchdog reconnects a silent stream', async (page) => {
	await page.goto(base + '/');
	await page.waitForFunction(() => window.sseManager.state === 'open', null, { timeout: 10000 });
	publish('logs', 'log', JSON.stringify({ source: 'test', line: 'before-stop' }));
	await page.locator('#log-lines li', { hasText: 'before-stop' }).waitFor({ timeout: 10000 });
	const states = [];
	await page.exposeFunction('__state', (s) => states.push(s));
	await page.evaluate(() => document.addEventListener('sse-state', (e) => window.__state(e.detail)));
	const health = await (await fetch(base + '/api/sse-health')).json();
	const lines = [];
	process.kill(health.pid, 'SIGSTOP');
	try {
		for (let i = 0; i < 3; i++) {
			lines.push(`while-stopped-${i}`);
			publish('logs', 'log', JSON.stringify({ source: 'test', line: lines[i] }));
		}
		// Two heartbeats of 1 s and the pump's 1 s tick: 3 s; the bound
		// leaves room for a loaded machine.
		await page.waitForFunction(() => document.querySelector('#connection').textContent ===
			'reconnecting…', null, { timeout: 10000 });
	} finally {
		process.kill(health.pid, 'SIGCONT');
	}
	await page.waitForFunction(() => window.sseManager.state === 'open', null, { timeout: 20000 });
	lines.push('after-continue');
	publish('logs', 'log', JSON.stringify({ source: 'test', line: 'after-continue' }));
	for (const l of lines) {
		await page.locator('#log-lines li', { hasText: l }).waitFor({ timeout: 10000 });
	}
	for (const l of ['before-stop', ...lines]) {
		const n = await page.locator('#log-lines li', { hasText: l }).count();
		assert(n === 1, `${l} arrived once, not ${n} times`);
	}
	const url = await page.evaluate(() => window.sseManager.source.url);
	assert(url.includes('last_event_id='), 'reconnected from the last id: ' + url);
	assert(states.includes('reconnecting') && states[states.length - 1] === 'open', 'states: ' + states);
});
