// Two users behind basic authentication (check_multiuser's browser
// case): alice starts a job on the demo page and watches it in two
// tabs; bob, on his own demo page and by guessing its id, sees nothing
// of it on any route and cannot cancel it (403); a personal notice to
// alice reaches both her tabs and not bob's; alice's Cancel shows the
// job cancelled (the time from click to shown is printed).
import { execFileSync } from 'node:child_process';
import { run, base, assert } from './browser.mjs';

const WAIT = 15000;
const T0 = Date.now();
const mark = (what) => console.log(`${Date.now() - T0} ms: ${what}`);

// The registry's personal channel, added to the page's list of channels.
async function withNotices(route) {
	const r = await route.fetch();
	const body = (await r.text()).replace('job: [', "notices: ['notice'],\n    job: [");
	await route.fulfill({ contentType: 'text/javascript', body });
}

// A page with nothing but the manager (the demo page holds three
// connections: two tabs of it would take all six that Chromium opens to
// one server over HTTP/1.1, and every further request would wait).
const small = `<!doctype html><html><head><meta charset="utf-8">
<link rel="icon" href="data:,"><script src="/js/channel-events.js"></script>
<script src="/js/sse-manager.js"></script></head><body></body></html>`;

// A context (its own cookies and credentials) for user; errors go to errors.
async function user(browser, name, errors) {
	const ctx = await browser.newContext({ httpCredentials: { username: name, password: 'secret' } });
	await ctx.route('**/js/channel-events.js', withNotices);
	await ctx.route('**/notices-test', (r) => r.fulfill({
		contentType: 'text/html; charset=utf-8', body: small }));
	ctx.on('page', (p) => p.on('pageerror', (e) => errors.push(name + ': ' + e.message)));
	return ctx;
}

// Opens path in a new tab of ctx (the demo page, or the small one), its
// stream open with notices too; its notices collect in window.__notices.
async function tab(ctx, path) {
	const page = await ctx.newPage();
	await page.goto(base + path);
	if (path === '/') await page.locator('#demo-todo button').waitFor({ timeout: WAIT });
	await page.evaluate(() => {
		window.__notices = [];
		window.sseManager.connect('notices', (d) => window.__notices.push(d.text));
	});
	await page.waitForFunction(() => window.sseManager.source &&
		window.sseManager.source.url.includes('channel=notices') &&
		window.sseManager.source.readyState === 1, null, { timeout: WAIT });
	return page;
}

// Fetches url from page with headers, reading for at most ms (a stream
// never ends by itself). Returns { status, body }.
function peek(page, url, headers, ms) {
	return page.evaluate(async ([url, headers, ms]) => {
		const ac = new AbortController();
		const timer = setTimeout(() => ac.abort(), ms);
		let status = 0, body = '';
		try {
			const r = await fetch(url, { headers, signal: ac.signal });
			status = r.status;
			const rd = r.body.getReader();
			const dec = new TextDecoder();
			for (;;) {
				const { done, value } = await rd.read();
				if (done) break;
				body += dec.decode(value, { stream: true });
			}
		} catch (e) {
			if (e.name !== 'AbortError') body += '[' + e + ']';
		}
		clearTimeout(timer);
		return { status, body };
	}, [url, headers, ms]);
}

// Sends an htmx request from page, as a button would; returns its status.
function htmxStatus(page, verb, path, target) {
	return page.evaluate(([verb, path, target]) => new Promise((resolve) => {
		const timer = setTimeout(() => resolve(0), 10000);
		document.body.addEventListener('htmx:afterRequest', (e) => {
			if (e.detail.pathInfo.requestPath !== path) return;
			clearTimeout(timer);
			resolve(e.detail.xhr.status);
		});
		htmx.ajax(verb, path, { target, swap: 'afterbegin' });
	}), [verb, path, target]);
}

function jobState(id) {
	return execFileSync('psql', ['-XAtc', `select state from pgsse.jobs where id = ${id}`]).toString().trim();
}

await run('two users', async (_page, browser) => {
	const errors = [];
	const alice = await user(browser, 'alice', errors);
	const bob = await user(browser, 'bob', errors);
	try {
		const a1 = await tab(alice, '/');
		const b1 = await tab(bob, '/');
		// Alice starts a job and sees its progress.
		await a1.click('#demo-todo button');
		const row = a1.locator('#jobs .job').first();
		await row.waitFor({ timeout: WAIT });
		const id = Number((await row.getAttribute('id')).replace('job-', ''));
		assert(id > 0, 'the job has an id: ' + id);
		await a1.waitForFunction((id) => {
			const p = document.querySelector(`#job-${id} progress`);
			return p && Number(p.value) > 0 && Number(p.value) < 100;
		}, id, { timeout: WAIT });
		mark('progress shown');
		const a2 = await tab(alice, '/notices-test');
		const mine = new RegExp(`"job_id": ?${id}\\b`);

		// A personal notice reaches both of alice's tabs and none of bob's;
		// bob's own, published after it, shows his tab had the time.
		execFileSync('pgsse-publish', ['-u', 'alice', 'notices', 'notice', '{"text":"for alice"}']);
		execFileSync('pgsse-publish', ['-u', 'bob', 'notices', 'notice', '{"text":"for bob"}']);
		for (const p of [a1, a2]) {
			await p.waitForFunction(() => window.__notices.includes('for alice'), null, { timeout: WAIT });
		}
		await b1.waitForFunction(() => window.__notices.includes('for bob'), null, { timeout: WAIT });
		await b1.waitForTimeout(300);
		const got = await Promise.all([a1, a2, b1].map((p) => p.evaluate(() => window.__notices)));
		assert(got.map((n) => n.join()).join('|') === 'for alice|for alice|for bob',
			'notices reach their user only: ' + JSON.stringify(got));

		mark('notices');
		// Bob, by every route, even with the id.
		const quiet = [];
		const look = async (what, r) => {
			quiet.push(what);
			mark(what + ' ' + r.status);
			assert(!mine.test(r.body) && !r.body.includes('todo: '), `bob saw the job on ${what}: ${r.status} ${r.body.slice(0, 300)}`);
			return r;
		};
		// A job not (yet) there is waited for, PGSSE_JOB_GRACE_MS (2 s).
		let r = await look('per-job stream', await peek(b1, `/api/jobs/${id}/stream`, {}, 5000));
		assert(r.status === 404, 'per-job stream: 404 for bob, got ' + r.status + ' ' + r.body);
		r = await look('job fragment', await peek(b1, `/jobs/${id}`, {}, 3000));
		assert(r.status === 200 && !r.body.includes('job-row'), 'job fragment: ' + r.status + ' ' + r.body);
		await look('log fragment', await peek(b1, '/logs/tail?n=200', {}, 3000));
		await look('job fragment by htmx', { body: '', status: await htmxStatus(b1, 'GET', `/jobs/${id}`, '#jobs') });
		const multi = '/api/sse?channel=job&channel=logs&channel=operations';
		await look('multi-channel stream', await peek(b1, multi, {}, 1000));
		const resume = { 'Last-Event-ID': 'job:0,logs:0,operations:0' };
		r = await look('multi-channel resume', await peek(b1, multi, resume, 1500));
		assert(r.status === 200, 'bob\'s resume is a stream: ' + r.status);
		await look('resume in the query', await peek(b1, multi + '&last_event_id=job:0,logs:0', {}, 1500));
		await look('job channel resume', await peek(b1, '/api/sse/job', { 'Last-Event-ID': '0' }, 1500));
		// The same resume shows it to alice: the routes do carry it. (In
		// a context of its own: her two tabs hold the six connections
		// Chromium opens to one server.)
		const alone = await user(browser, 'alice', errors);
		const a3 = await alone.newPage();
		await a3.goto(base + '/css/pgsse.css');
		r = await peek(a3, multi, resume, 1500);
		await alone.close();
		mark('alice\'s resume');
		assert(mine.test(r.body), 'alice\'s resume shows her job: ' + r.body.slice(0, 300));
		// Bob installs the same demo: a job of his own, nothing of hers.
		await look('install of the same demo', { body: '', status: await htmxStatus(b1, 'POST', '/demos/todo/install', '#jobs') });
		const page = await b1.content();
		assert(!page.includes(`job-${id}`) && !page.includes(`/api/jobs/${id}/`) &&
			(await b1.locator('#jobs .job').count()) === 1 &&
			(await b1.locator('#log-lines li', { hasText: 'todo: ' }).count()) === 0,
		'bob\'s page shows nothing of the job: ' + (await b1.locator('#jobs').innerHTML()));

		mark('bob saw nothing');
		// Bob cannot cancel it: 403, and it runs on.
		const st = await htmxStatus(b1, 'POST', `/jobs/${id}/cancel`, '#jobs');
		assert(st === 403, 'bob\'s cancel: 403, got ' + st);
		await a1.waitForTimeout(300);
		assert(jobState(id) === 'running', 'after bob\'s cancel the job is ' + jobState(id));
		assert(await a1.locator(`#job-${id} .job-state`).textContent() === 'running', 'alice still sees it running');

		// Alice cancels it: the time from her click to "cancelled" shown.
		await a1.evaluate((id) => {
			const shown = () => {
				const s = document.querySelector(`#job-${id} .job-state`);
				return s && s.textContent === 'cancelled';
			};
			new MutationObserver((_m, o) => {
				if (shown()) { window.__cancelledAt = performance.now(); o.disconnect(); }
			}).observe(document.querySelector('#jobs'), { childList: true, subtree: true, characterData: true });
			window.__clickAt = performance.now();
			document.querySelector(`#job-${id} .job-cancel`).click();
		}, id);
		// Bounded, not timed: the time is printed, not asserted.
		await a1.waitForFunction(() => window.__cancelledAt, null, { timeout: 5000 });
		const ms = await a1.evaluate(() => Math.round(window.__cancelledAt - window.__clickAt));
		console.log(`cancel: click to "cancelled" shown in ${ms} ms`);
		assert(jobState(id) === 'cancelled', 'the job ended ' + jobState(id));
		assert((await b1.locator(`#job-${id}`).count()) === 0, 'bob still sees nothing');
		// The job's end reaches alice's toasts (demos.operation_completed),
		// and not bob's: how her job ended is hers.
		await a1.locator('.toast', { hasText: 'todo: failed' }).first().waitFor({ timeout: WAIT });
		await b1.waitForTimeout(500);
		assert((await b1.locator('.toast', { hasText: 'todo: failed' }).count()) === 0,
			'bob was told how alice\'s job ended: ' + await b1.locator('.toasts').innerText());
		assert(errors.length === 0, 'page errors: ' + errors.join('\n'));
		console.log('bob saw nothing on: ' + quiet.join(', '));
	} finally {
		await alice.close();
		await bob.close();
	}
});
