// expect: 4
// The seed's pitfall 3.
window.sseManager.connect('demos', (data, event) => {
	htmx.trigger('#demo-grid', 'sse:installed');
});
