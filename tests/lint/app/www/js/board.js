// Reloads the list when the tab comes back.
document.addEventListener('visibilitychange', function () {
	htmx.trigger(document.body, 'ordersChanged');
});
