// expect: 3
window.sseManager.connect('demos', (data, event) => {
	if (event.type === 'demo_installed') { htmx.trigger('#g', 'demoInstalled'); }
});
