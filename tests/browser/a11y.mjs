// a11y.mjs: the demo page for assistive technology. With live content on
// it (a job's progress bar, log lines, the badge connected) the badge is
// a status, the log a log, every progress bar has a name, and axe-core
// finds nothing serious or critical. Without JavaScript the page says
// what needs it and links what works without it.
import { run, base, publish, assert, axe } from './browser.mjs';

const WAIT_MS = 15000;

// Opens the demo page and waits for live content: the badge connected,
// a validation job's row with its progress bar, and a log line.
async function live(page) {
	await page.goto(base + '/');
	await page.waitForFunction(() => window.sseManager.state === 'open', null, { timeout: WAIT_MS });
	await page.locator('#connection', { hasText: 'live' }).waitFor({ timeout: WAIT_MS });
	await page.click('button:has-text("Run validation")');
	await page.locator('#jobs .job progress').first().waitFor({ timeout: WAIT_MS });
	const line = 'a11y ' + Date.now();
	publish('logs', 'log', JSON.stringify({ source: 'a11y', line: line }));
	await page.locator('#log-lines li', { hasText: line }).waitFor({ timeout: WAIT_MS });
}

await run('live regions and progress bars have roles and names', async (page) => {
	await live(page);
	const badge = page.locator('#connection');
	assert(await badge.getAttribute('role') === 'status', 'the badge has role=status');
	assert(await badge.getAttribute('aria-live') === 'polite', 'the badge is aria-live=polite');
	const logs = page.getByRole('log');
	assert(await logs.count() === 1, 'one element of role log');
	assert(await logs.locator('#log-lines').count() === 1, 'the log region holds #log-lines');
	// Every bar's accessible name, as the browser computes it.
	const bars = await page.locator('progress').count();
	const named = await page.getByRole('progressbar', { name: /^Progress of job \d+$/ }).count();
	assert(bars > 0 && named === bars, `${named} of ${bars} progress bars are named "Progress of job N"`);
});

await run('axe on the live page', async (page) => {
	await live(page);
	await axe(page, 'demo page, live');
});

await run('the page without JavaScript', async (page, browser) => {
	const ctx = await browser.newContext({ javaScriptEnabled: false });
	const p = await ctx.newPage();
	await p.goto(base + '/');
	const note = p.locator('noscript');
	assert(await note.count() === 1, 'one noscript note');
	// Without scripts the note is shown: its text is the page's.
	const text = await p.locator('body').innerText();
	assert(/JavaScript/.test(text) && /live/i.test(text), 'the note says live updates need JavaScript: ' + text);
	const links = p.locator('noscript a');
	const n = await links.count();
	assert(n > 0, 'the note links what works without JavaScript');
	for (let i = 0; i < n; i++) {
		const href = await links.nth(i).getAttribute('href');
		const r = await p.request.get(new URL(href, base).href);
		assert(r.status() === 200, `${href} answers 200 without JavaScript, got ${r.status()}`);
	}
	await ctx.close();
});
