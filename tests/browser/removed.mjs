// A channel removed while the page reads it: the registry is loaded
// again without "orders" (a test channel check_browser adds). The
// stream sends pgsse.channel_removed and ends; the manager drops that
// channel's handlers and reconnects with the rest, from its last id,
// so "users" keeps delivering. The registry is put back afterwards.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, base, publish, assert } from './browser.mjs';

const page_html = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script>window.CHANNEL_EVENTS = Object.freeze({
  users: ['updated'], orders: ['updated'] });</script>
<script src="/js/sse-manager.js"></script>
</head><body></body></html>`;

const test_channel = (name, what) => ({ name, description: what,
	events: [{ name: 'updated', description: what[0].toLowerCase(),
		fields: { id: 'integer' } }] });

// Loads the demo's registry plus the given test channels.
function load(channels) {
	const src = process.env.PGSSE_SRCDIR || '.';
	const doc = JSON.parse(fs.readFileSync(path.join(src, 'sql', 'registry.json')));
	doc.channels.push(...channels);
	const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'removed-')), 'r.json');
	fs.writeFileSync(file, JSON.stringify(doc));
	execFileSync('pgsse-registry', ['load', file]);
	fs.rmSync(path.dirname(file), { recursive: true });
}

await run('channel removed', async (page) => {
	await page.route('**/removed-test', (r) => r.fulfill({
		contentType: 'text/html; charset=utf-8', body: page_html }));
	await page.goto(base + '/removed-test');
	await page.evaluate(() => {
		window.__got = { users: [], orders: [] };
		for (const ch of ['users', 'orders']) {
			window.sseManager.connect(ch, (data, event) =>
				window.__got[ch].push(data.id + ':' + event.type));
		}
	});
	await page.waitForFunction(() => window.sseManager.state === 'open' &&
		window.sseManager.channels.length === 2, null, { timeout: 10000 });
	publish('users', 'updated', '{"id":1}');
	await page.waitForFunction(() => window.__got.users.includes('1:updated'),
		null, { timeout: 10000 });
	try {
		load([test_channel('users', 'Test users.')]);
		await page.waitForFunction(() => window.sseManager.state === 'open' &&
			window.sseManager.channels.join() === 'users', null, { timeout: 10000 });
		publish('users', 'updated', '{"id":2}');
		await page.waitForFunction(() => window.__got.users.includes('2:updated'),
			null, { timeout: 10000 });
		const got = await page.evaluate(() => window.__got);
		assert(got.users.join() === '1:updated,2:updated' && got.orders.length === 0,
			'users delivered once each, orders nothing: ' + JSON.stringify(got));
	} finally {
		load([test_channel('users', 'Test users.'), test_channel('orders', 'Test orders.')]);
	}
});
