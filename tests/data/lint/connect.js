// expect: 2
window.sseManager.connect('demo', () => {});
