// The demo library: install a demo with a click and watch the per-job
// progress bar, the grid re-render and the toast, with no reload; one
// EventSource per channel; hostile strings shown as text.
import { run, base, publish, assert } from './browser.mjs';

// Counts every EventSource the page opens, by URL.
function countEventSources() {
	window.__es = [];
	const Orig = window.EventSource;
	window.EventSource = function (url, opts) {
		const es = new Orig(url, opts);
		window.__es.push({ url: String(url), es: es });
		return es;
	};
	window.EventSource.prototype = Orig.prototype;
	Object.assign(window.EventSource, { CONNECTING: 0, OPEN: 1, CLOSED: 2 });
}

await run('install a demo', async (page) => {
	await page.addInitScript(countEventSources);
	await page.goto(base + '/');
	await page.locator('#demo-todo button').waitFor();
	await page.waitForFunction(() => window.sseManager.state === 'open', null, { timeout: 10000 });
	assert(await page.locator('#demo-todo .badge').textContent() === 'not installed', 'todo starts uninstalled');
	await page.click('#demo-todo button');
	// The per-job stream drives the progress bar.
	const job = page.locator('#jobs .job').first();
	await job.waitFor();
	await page.waitForFunction(() => {
		const p = document.querySelector('#jobs .job progress');
		return p && Number(p.value) > 0 && Number(p.value) < 100;
	}, null, { timeout: 15000 });
	// The grid re-renders through htmx.trigger('#demo-grid', 'demoInstalled').
	await page.waitForFunction(() => {
		const b = document.querySelector('#demo-todo .badge');
		return b && b.textContent === 'installed';
	}, null, { timeout: 20000 });
	await page.locator('.toast', { hasText: 'todo: succeeded' }).waitFor({ timeout: 10000 });
	await page.waitForFunction(() => {
		const p = document.querySelector('#jobs .job progress');
		return p && Number(p.value) === 100;
	}, null, { timeout: 10000 });
	// The finished job's stream is closed and stays closed.
	await page.waitForTimeout(2500);
	const jobs = await page.evaluate(() => window.__es.filter((e) => e.url.includes('/api/jobs/'))
		.map((e) => e.es.readyState));
	assert(jobs.length === 1 && jobs[0] === 2, 'one job stream, closed: ' + JSON.stringify(jobs));
	// Exactly one connection per channel: one for the status card (htmx
	// extension), one shared by the manager for demos, validation and logs.
	const urls = await page.evaluate(() => window.__es.filter((e) => e.es.readyState !== 2).map((e) => e.url));
	const perChannel = {};
	for (const u of urls) {
		const q = new URL(u, base);
		const chans = q.pathname.startsWith('/api/sse/') ? [q.pathname.slice(9)] : q.searchParams.getAll('channel');
		for (const c of chans) perChannel[c] = (perChannel[c] || 0) + 1;
	}
	for (const [c, n] of Object.entries(perChannel)) assert(n === 1, `channel ${c} has ${n} connections`);
	assert(perChannel.status === 1 && perChannel.demos === 1 && perChannel.logs === 1,
		'status, demos and logs are connected: ' + JSON.stringify(perChannel));
	assert(await page.evaluate(() => window.sseManager.opened) === 1, 'the manager opened one EventSource');
	// A double click does not start two installs.
	await page.click('#demo-chat button');
	// htmx.ajax's promise need not settle (a retargeted answer), so wait
	// for the answer itself, with a bound, instead of the promise.
	const answer = page.waitForResponse((r) => r.url().endsWith('/demos/chat/install'), { timeout: 10000 });
	await page.evaluate(() => { htmx.ajax('POST', '/demos/chat/install', { target: '#jobs', swap: 'afterbegin' }); });
	await answer;
	await page.waitForTimeout(500);
	const chatJobs = await page.locator('#jobs .job', { hasText: 'Chat room' }).count();
	assert(chatJobs === 1, 'one chat job shown, got ' + chatJobs);
});

await run('hostile strings are text', async (page) => {
	await page.goto(base + '/');
	const evil = '<img src=x onerror="window.__pwned=1">';
	await page.locator('#demo-evil h3').waitFor();
	assert(await page.locator('#demo-evil h3').textContent() === evil, 'demo name shown as text');
	await page.waitForFunction(() => window.sseManager.state === 'open', null, { timeout: 10000 });
	publish('logs', 'log', JSON.stringify({ source: '<b>src</b>', line: evil + '\n<script>window.__pwned=2</script>' }));
	// Read the line that matched: the previous case's job may still be
	// printing, so the last line of the log need not be this one.
	const line = page.locator('#log-lines li', { hasText: 'onerror' }).last();
	await line.waitFor({ timeout: 10000 });
	const text = await line.textContent();
	assert(text.includes(evil) && text.includes('<b>src</b>'), 'log line shown as text: ' + text);
	assert(await page.locator('img').count() === 0, 'no img element was created');
	assert(await page.evaluate(() => window.__pwned) === undefined, 'no script ran');
});
