// The page works when JavaScript loads slowly, and the manager resumes
// from its last event id when it must open a new EventSource.
import { run, base, publish, assert } from './browser.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

await run('slow JavaScript', async (page) => {
	await page.route('**/vendor/alpine.min.js', async (route) => {
		await sleep(3000);
		await route.continue();
	});
	await page.route('**/js/sse-manager.js', async (route) => {
		await sleep(1500);
		await route.continue();
	});
	await page.goto(base + '/', { waitUntil: 'commit' });
	// Published while the scripts are still loading: not lost.
	publish('demos', 'installed', JSON.stringify({ demo_id: 'dashboard', name: 'Metrics dashboard' }));
	await page.locator('#demo-grid .demo').first().waitFor({ timeout: 15000 });
	await page.locator('#status-display .status-card').waitFor({ timeout: 10000 });
	await page.waitForFunction(() => window.Alpine && window.sseManager &&
		window.sseManager.state === 'open', null, { timeout: 15000 });
	await page.waitForFunction(() => {
		const b = document.querySelector('#demo-dashboard .badge');
		return b && b.textContent === 'installed';
	}, null, { timeout: 10000 });
	// And live events work once everything has loaded.
	publish('demos', 'installed', JSON.stringify({ demo_id: 'kanban', name: 'Kanban board' }));
	await page.waitForFunction(() => {
		const b = document.querySelector('#demo-kanban .badge');
		return b && b.textContent === 'installed';
	}, null, { timeout: 10000 });
});

await run('manager reopens from its last event id', async (page) => {
	await page.goto(base + '/');
	await page.waitForFunction(() => window.sseManager.state === 'open', null, { timeout: 10000 });
	publish('logs', 'log', JSON.stringify({ source: 'test', line: 'before-close' }));
	await page.locator('#log-lines li', { hasText: 'before-close' }).waitFor({ timeout: 10000 });
	// A hard failure: the EventSource is closed for good.
	await page.evaluate(() => window.sseManager.source.close());
	for (let i = 0; i < 3; i++) {
		publish('logs', 'log', JSON.stringify({ source: 'test', line: `while-closed-${i}` }));
	}
	const url = await page.evaluate(() => { window.sseManager.open(); return window.sseManager.source.url; });
	assert(url.includes('last_event_id='), 'reopened with last_event_id: ' + url);
	for (let i = 0; i < 3; i++) {
		await page.locator('#log-lines li', { hasText: `while-closed-${i}` }).waitFor({ timeout: 10000 });
	}
	assert(await page.locator('#log-lines li', { hasText: 'before-close' }).count() === 1, 'no duplicate');
	assert(await page.evaluate(() => window.sseManager.opened) === 2, 'two EventSources in all');
});
