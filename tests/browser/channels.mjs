// Channel identity: users and orders (test channels, added to the
// registry by check_browser) share the event name "updated". On one
// multiplexed connection an event reaches only the handlers of the
// channel it was published on: sseManager.connect() handlers, and the
// htmx extension's sse-swap and hx-trigger="sse:..." elements.
import { run, base, publish, assert } from './browser.mjs';

const page_html = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script src="/vendor/htmx.min.js"></script>
<script src="/vendor/sse.js"></script>
<script>window.CHANNEL_EVENTS = Object.freeze({
  users: ['updated'], orders: ['updated'] });</script>
<script src="/js/sse-manager.js"></script>
</head><body>
<div id="ext" hx-ext="sse" sse-connect="/api/sse?channel=users&amp;channel=orders">
  <div id="swap-users" sse-swap="users.updated"></div>
  <div id="swap-orders" sse-swap="orders.updated"></div>
  <div id="trig-users" hx-get="/t/users" hx-trigger="sse:users.updated"></div>
  <div id="trig-orders" hx-get="/t/orders" hx-trigger="sse:orders.updated"></div>
</div>
</body></html>`;

await run('channel identity', async (page) => {
	const fetched = { users: 0, orders: 0 };
	await page.route('**/channels-test', (r) => r.fulfill({
		contentType: 'text/html; charset=utf-8', body: page_html }));
	await page.route('**/t/*', (r) => {
		fetched[r.request().url().endsWith('/users') ? 'users' : 'orders']++;
		r.fulfill({ contentType: 'text/html', body: 'fetched' });
	});
	await page.goto(base + '/channels-test');
	await page.evaluate(() => {
		window.__got = { users: [], orders: [] };
		for (const ch of ['users', 'orders']) {
			window.sseManager.connect(ch, (data, event) =>
				window.__got[ch].push(data.id + ':' + event.type));
		}
	});
	await page.waitForFunction(() => window.sseManager.state === 'open' &&
		document.querySelector('#ext')['htmx-internal-data'].sseEventSource
			.readyState === 1, null, { timeout: 10000 });
	publish('users', 'updated', '{"id":1}');
	publish('orders', 'updated', '{"id":2}');
	// The orders event follows the users one on both connections: once
	// it arrived everywhere, so did (or would have) the first.
	let waited = 'both events arrived';
	try {
		await page.waitForFunction(() => window.__got.orders.includes('2:updated') &&
			document.querySelector('#swap-orders').textContent.includes('2'),
		null, { timeout: 10000 });
		await page.waitForTimeout(500);
	} catch (e) {
		waited = 'the orders event did not arrive everywhere: ' + e.message.split('\n')[0];
	}
	const got = await page.evaluate(() => ({
		manager: window.__got,
		swap: { users: document.querySelector('#swap-users').textContent,
			orders: document.querySelector('#swap-orders').textContent },
	}));
	const seen = JSON.stringify({ waited, ...got, fetched });
	assert(got.manager.users.join() === '1:updated', 'manager: users handlers got only users: ' + seen);
	assert(got.manager.orders.join() === '2:updated', 'manager: orders handlers got only orders: ' + seen);
	// The stream sends the payload as jsonb prints it: {"id": 1}.
	const id = (text) => { try { return JSON.parse(text).id; } catch (e) { return text; } };
	assert(id(got.swap.users) === 1 && id(got.swap.orders) === 2,
		'sse-swap: each element shows its own channel\'s event: ' + seen);
	assert(fetched.users === 1 && fetched.orders === 1,
		'hx-trigger: each element fetched once, for its own channel: ' + seen);
});
