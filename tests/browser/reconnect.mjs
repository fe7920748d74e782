// The stream program dies: the page shows it is reconnecting, recovers,
// and every event published meanwhile arrives (Last-Event-ID resume).
import { run, base, publish, assert } from './browser.mjs';

await run('stream restart', async (page) => {
	await page.goto(base + '/');
	await page.waitForFunction(() => window.sseManager.state === 'open', null, { timeout: 10000 });
	const states = [];
	await page.exposeFunction('__state', (s) => states.push(s));
	await page.evaluate(() => document.addEventListener('sse-state', (e) => window.__state(e.detail)));
	const health = await (await fetch(base + '/api/sse-health')).json();
	process.kill(health.pid, 'SIGKILL');
	const lines = [];
	for (let i = 0; i < 5; i++) {
		lines.push(`during-outage-${i}`);
		publish('logs', 'log', JSON.stringify({ source: 'test', line: lines[i] }));
	}
	await page.waitForFunction(() => window.sseManager.state === 'reconnecting', null, { timeout: 10000 });
	assert(await page.locator('#connection').textContent() === 'reconnecting…', 'the badge says reconnecting');
	await page.waitForFunction(() => window.sseManager.state === 'open', null, { timeout: 20000 });
	for (const l of lines) {
		await page.locator('#log-lines li', { hasText: l }).waitFor({ timeout: 10000 });
		assert(await page.locator('#log-lines li', { hasText: l }).count() === 1, l + ' arrived once');
	}
	assert(states.includes('reconnecting') && states[states.length - 1] === 'open', 'states: ' + states);
});
