// csrf.js: sends the pgsse_csrf cookie back as X-CSRF-Token on every
// htmx request; pgsse-app refuses a POST without it (lib/csrf.c).
document.addEventListener('htmx:configRequest', function (e) {
	const m = document.cookie.match(/(?:^|;\s*)pgsse_csrf=([0-9a-f]+)/);
	if (m) e.detail.headers['X-CSRF-Token'] = m[1];
});
