// guide.mjs: the pages of docs/GUIDE.md, as a reader would use them.
//   node guide.mjs starter   the starter's page: Say it, and the list
//                            shows what the job said; axe-core finds
//                            nothing serious or critical on it
//   node guide.mjs orders    the order board: one browser places an
//                            order; it turns packed in that browser and
//                            in a second one that only listens; axe-core
//                            finds nothing serious or critical on it
import { base, launch, assert, run, axe } from './browser.mjs';

const WAIT_MS = 15000;

async function starter(page) {
	await page.goto(base + '/');
	await page.waitForSelector('#said li');
	const text = 'guide ' + Date.now();
	await page.fill('input[name=text]', text);
	await page.click('#hello');
	await page.waitForSelector('#queued .queued', { timeout: WAIT_MS });
	const li = page.locator('#said li', { hasText: text });
	await li.waitFor({ timeout: WAIT_MS });
	assert(await li.count() === 1, 'what the job said is listed once');
	await axe(page, 'starter page');
}

async function orders(page) {
	const other = await (await launch()).newPage();
	try {
		await other.goto(base + '/orders.html');
		await page.goto(base + '/orders.html');
		await page.waitForSelector('#orders li');
		await other.waitForSelector('#orders li');
		const item = 'teapot ' + Date.now();
		await page.fill('input[name=item]', item);
		await page.click('#place');
		const placed = await page.locator('#placed').textContent({ timeout: WAIT_MS });
		assert(/placed; job \d+ packs it/.test(await page.locator('#placed p').textContent({ timeout: WAIT_MS })),
		    'the action answered: ' + placed);
		for (const p of [page, other]) {
			await p.locator('#orders li.packed', { hasText: item })
			    .waitFor({ timeout: WAIT_MS });
		}
		await axe(page, 'order board');
	} finally {
		await other.context().browser().close();
	}
}

const which = process.argv[2];
const checks = { starter, orders };
assert(checks[which], 'a check named starter or orders');
await run('guide ' + which, checks[which]);
