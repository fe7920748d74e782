// browser.mjs: starts the system's headless Chromium for page tests,
// with playwright-core (www/node_modules) driving it over CDP.
// Every test script exports nothing and exits non-zero on failure.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const src = process.env.PGSSE_SRCDIR || '.';
const modules = process.env.PGSSE_NODE_MODULES || path.join(src, 'www', 'node_modules');
const require = createRequire(path.join(modules, '..', 'package.json'));
const { chromium } = require('playwright-core');

export const base = process.env.PGSSE_URL;

// Launches Chromium with a fresh profile and no network but loopback.
export async function launch() {
	return chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic',
			'--no-first-run', '--disable-background-networking',
			'--disable-component-update', '--disable-sync',
			'--disable-dev-shm-usage'],
	});
}

// Publishes through bin/pgsse-publish, as a job script would.
export function publish(channel, event, json) {
	return execFileSync('pgsse-publish', [channel, event, json]).toString().trim();
}

export function assert(cond, what) {
	if (!cond) {
		throw new Error('assertion failed: ' + what);
	}
}

// The impacts that fail the accessibility check; minor and moderate
// ones are printed only.
const AXE_FAIL = ['serious', 'critical'];
// Nodes printed per violation.
const AXE_NODES_MAX = 5;

// Runs axe-core on the page as it is now; the page must run scripts.
// axe comes from node_modules and is injected by the test, never served
// from www/ nor shipped. Prints every violation with its impact and its
// first nodes, and throws if any is serious or critical.
export async function axe(page, what) {
	assert(!await page.evaluate(() => 'axe' in window), `${what}: the page does not load axe itself`);
	await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
	const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
	for (const v of r.violations) {
		console.log(`axe ${what}: ${v.impact}: ${v.id}: ${v.help} (${v.nodes.length} nodes)`);
		for (const n of v.nodes.slice(0, AXE_NODES_MAX)) {
			const [how, ...why] = n.failureSummary.split(/\n\s*/);
			console.log(`    ${n.target.join(' ')}: ${how} ${why.join('; ')}`);
		}
	}
	const bad = r.violations.filter((v) => AXE_FAIL.includes(v.impact));
	console.log(`axe ${what}: axe-core ${r.testEngine.version}: ${r.violations.length} violations, ` +
	    `${bad.length} serious or critical`);
	assert(bad.length === 0, `${what}: serious or critical axe violations: ` +
	    bad.map((v) => v.id).join(', '));
}

// Runs fn(page) in a new browser; prints console errors; exits 1 on failure.
export async function run(name, fn) {
	const browser = await launch();
	const page = await browser.newPage();
	const errors = [];
	page.on('pageerror', (e) => errors.push(e.message));
	page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
	try {
		await fn(page, browser);
		console.log(`ok: ${name}`);
	} catch (e) {
		console.error(`FAIL: ${name}: ${e.stack || e}`);
		if (errors.length) console.error('page errors:\n' + errors.join('\n'));
		process.exitCode = 1;
	} finally {
		await browser.close();
	}
}
