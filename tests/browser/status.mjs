// The status card (htmx SSE extension) loads its fragment from the
// FastCGI program and re-renders when system_status is published.
import { run, base, publish, assert } from './browser.mjs';

await run('status card', async (page) => {
	await page.goto(base + '/');
	const card = page.locator('#status-display .status-card');
	await card.waitFor({ timeout: 10000 });
	const before = await card.locator('dd').nth(2).textContent();
	// The extension is connected once the EventSource is open.
	await page.waitForFunction(() => {
		const el = document.querySelector('#status-display');
		const es = el && htmx.find('#status-display') &&
			el['htmx-internal-data'] && el['htmx-internal-data'].sseEventSource;
		return es && es.readyState === 1;
	}, null, { timeout: 10000 });
	publish('status', 'system_status', '{"status":"ok","uptime":42}');
	await page.waitForFunction((old) => {
		const dd = document.querySelectorAll('#status-display .status-card dd')[2];
		return dd && dd.textContent !== old;
	}, before, { timeout: 10000 });
	const after = await card.locator('dd').nth(2).textContent();
	assert(Number(after) > Number(before), `events logged grew (${before} -> ${after})`);
});
