// ui.js: the web UI in a real browser (headless Chromium through
// puppeteer-core), driven by tests/integration/web-ui.sh, which starts the
// daemon, the jobs and the accounts.  Prints one line per check:
// "PASS what" or "FAIL what: why"; screenshots go to $SHOTS.
//
// Environment: BASE (http://127.0.0.1:PORT), NODE_DIR (where puppeteer-core
// is installed), CHROMIUM, SHOTS, OP_USER/OP_PASS (may run and cancel),
// VIEW_USER/VIEW_PASS (may only view).
'use strict';

const path = require('path');
const puppeteer = require(path.join(process.env.NODE_DIR, 'node_modules',
    'puppeteer-core'));

const BASE = process.env.BASE;
const SHOTS = process.env.SHOTS;
const T = 20000;	// ms for anything to show up
let failed = 0;

function result(ok, what, why) {
	if (ok)
		console.log(`PASS ${what}`);
	else {
		failed++;
		console.log(`FAIL ${what}: ${why}`);
	}
}

// One check: fn throws or returns false to fail.
async function check(what, fn) {
	try {
		const r = await fn();
		result(r !== false, what, 'condition false');
	} catch (e) {
		result(false, what, String(e && e.message ? e.message : e)
		    .split('\n')[0]);
	}
}

async function shot(page, name) {
	try {
		await page.screenshot({ path: path.join(SHOTS, `${name}.png`),
		    fullPage: true });
	} catch (e) {
		console.log(`# screenshot ${name}: ${e.message}`);
	}
}

async function login(page, user, pass) {
	await page.goto(`${BASE}/login`, { waitUntil: 'load' });
	await page.type('#login-user', user);
	await page.type('#login-password', pass);
	await Promise.all([
		page.waitForNavigation({ waitUntil: 'load', timeout: T }),
		page.click('form.login button[type="submit"]'),
	]);
}

const text = (page, sel) => page.$eval(sel, (e) => e.textContent);
// Submit a form as its button would, in one step in the page (a live
// refresh may replace the button between a lookup and a click).
const submit = (page, sel) => page.$eval(sel, (f) => f.requestSubmit());

(async () => {
	const browser = await puppeteer.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
	});
	const page = await browser.newPage();
	await page.setViewport({ width: 1280, height: 900 });
	// Script errors and CSP violations (reported on the console).
	const problems = [];
	page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
	page.on('console', (m) => {
		if (m.type() === 'error' &&
		    !/Failed to load resource: the server responded with a status of 4[0-9][0-9]/.test(m.text()))
			problems.push(`console: ${m.text()}`);
	});

	await check('a page without a session leads to the login form',
	    async () => {
		await page.goto(`${BASE}/jobs`, { waitUntil: 'load' });
		return new URL(page.url()).pathname === '/login' &&
		    await page.$('#login-user') !== null;
	});
	await shot(page, '01-login');

	await check('the operator signs in and lands on the catalogue',
	    async () => {
		await login(page, process.env.OP_USER, process.env.OP_PASS);
		return new URL(page.url()).pathname === '/jobs';
	});
	await check('the catalogue lists the jobs with their schedule in words',
	    async () => {
		await page.waitForSelector('tr[data-job="greet"]', { timeout: T });
		await page.waitForSelector('tr[data-job="slow"]', { timeout: T });
		const row = await text(page, 'tr[data-job="nightly"]');
		if (!row.includes('every day at 02:00'))
			throw new Error(`nightly row: ${row}`);
		return true;
	});
	await check('the operator sees a Run now button on greet', async () =>
	    await page.$('tr[data-job="greet"] a.run') !== null);
	await check('times are shown in the browser\'s zone (app.js ran)',
	    async () => {
		const t = await page.$eval('tr[data-job="nightly"] time',
		    (e) => e.title);
		return t.endsWith('Z');
	});
	await shot(page, '02-jobs');

	// Run now with a parameter, then the live log.
	let runUrl = null;
	await check('Run now with a parameter opens the new run', async () => {
		await page.goto(`${BASE}/jobs/greet`, { waitUntil: 'load' });
		await page.type('input[name="p.who"]', 'browser');
		await shot(page, '03-run-form');
		await Promise.all([
			page.waitForNavigation({ waitUntil: 'load', timeout: T }),
			page.click('form.run-form button[type="submit"]'),
		]);
		runUrl = page.url();
		return /\/runs\/\d+$/.test(new URL(runUrl).pathname);
	});
	await check('log lines arrive live on the run page', async () => {
		const at = await page.$$eval('#log .ll', (l) => l.filter((e) =>
		    e.textContent.includes('hello browser')).length);
		if (at >= 3)
			throw new Error('the 3 lines were all there at load');
		await page.waitForFunction(() =>
		    document.querySelector('#log').textContent
			.includes('hello browser line 3'), { timeout: T });
		return true;
	});
	await check('the run\'s state turns to succeeded without a reload',
	    async () => {
		await page.waitForFunction(() => {
			const s = document.querySelector('dl.facts .state-cell');
			return s && s.textContent.includes('succeeded');
		}, { timeout: T });
		return new URL(page.url()).pathname ===
		    new URL(runUrl).pathname;
	});
	await check('the steps and actions follow: step succeeded, no Cancel',
	    async () => {
		await page.waitForFunction(() => {
			const s = document.querySelector(
			    'section[aria-labelledby="steps-h"]');
			return s && s.textContent.includes('succeeded') &&
			    !document.querySelector('form[data-api="cancel"]');
		}, { timeout: T });
		return true;
	});
	await check('the parameter reached the run', async () =>
	    (await text(page, 'dl.facts')).includes('browser'));
	await shot(page, '04-run-live');

	// A long run, a refused second one, then cancel.
	await check('a long run starts and is cancelled from its page',
	    async () => {
		await page.goto(`${BASE}/jobs/slow`, { waitUntil: 'load' });
		await Promise.all([
			page.waitForNavigation({ waitUntil: 'load', timeout: T }),
			page.click('form.run-form button[type="submit"]'),
		]);
		await page.waitForFunction(() =>
		    document.querySelector('#log').textContent
			.includes('slow started'), { timeout: T });
		await page.waitForSelector('form[data-api="cancel"] button',
		    { timeout: T });
		await shot(page, '05-slow-running');
		await submit(page, 'form[data-api="cancel"]');
		await page.waitForFunction(() => {
			const s = document.querySelector('dl.facts .state-cell');
			const a = document.querySelector(
			    'section[aria-labelledby="steps-h"]');
			return s && s.textContent.includes('canceled') &&
			    a.textContent.includes('canceled');
		}, { timeout: T });
		return true;
	});
	await shot(page, '06-canceled');

	await check('Replay starts a new run of the same job and shows it',
	    async () => {
		const was = new URL(page.url()).pathname;
		await page.waitForSelector('form[data-api="replay"] button',
		    { timeout: T });
		await Promise.all([
			page.waitForNavigation({ waitUntil: 'load', timeout: T }),
			submit(page, 'form[data-api="replay"]'),
		]);
		const now = new URL(page.url()).pathname;
		if (now === was || !/^\/runs\/\d+$/.test(now))
			throw new Error(`${was} -> ${now}`);
		const facts = await text(page, 'dl.facts');
		// Stop it: the rest of the session needs no long run.
		await page.waitForSelector('form[data-api="cancel"] button',
		    { timeout: T });
		await submit(page, 'form[data-api="cancel"]');
		await page.waitForFunction(() => document.querySelector(
		    'dl.facts .state-cell').textContent.includes('canceled'),
		    { timeout: T });
		return facts.includes('replay');
	});

	await check('an error of the API is shown in the form', async () => {
		await page.goto(`${BASE}/jobs/greet`, { waitUntil: 'load' });
		// The number input refuses letters: make it text, as an
		// old browser would show it, so the server's check answers.
		await page.$eval('input[name="p.count"]', (e) => {
			e.type = 'text';
		});
		await page.type('input[name="p.count"]', 'many');
		await page.click('form.run-form button[type="submit"]');
		await page.waitForFunction(() => document.querySelector(
		    'form.run-form .form-error').textContent.length > 0,
		    { timeout: T });
		const msg = await text(page, 'form.run-form .form-error');
		await shot(page, '07-form-error');
		if (!msg.includes('count'))
			throw new Error(`message: ${msg}`);
		return new URL(page.url()).pathname === '/jobs/greet';
	});

	await check('the history lists the runs', async () => {
		await page.goto(`${BASE}/runs`, { waitUntil: 'load' });
		const n = await page.$$eval('table.runs tbody tr', (r) => r.length);
		await shot(page, '08-runs');
		return n >= 2;
	});
	await check('a run started elsewhere appears in the history live',
	    async () => {
		await page.waitForSelector('body[data-live="on"]',
		    { timeout: T });
		const id = await page.evaluate(async () => {
			const tok = document.querySelector(
			    'meta[name="csrf-token"]').content;
			const r = await fetch('/api/jobs/nightly/run', {
				method: 'POST',
				headers: { 'Content-Type': 'application/json',
				    'X-CSRF-Token': tok },
				body: '{}',
			});
			return (await r.json()).run_id;
		});
		await page.waitForSelector(`table.runs tr[data-run="${id}"]`,
		    { timeout: T });
		return true;
	});
	await check('the catalogue shows a job\'s new last run live',
	    async () => {
		await page.goto(`${BASE}/jobs`, { waitUntil: 'load' });
		await page.waitForSelector('body[data-live="on"]',
		    { timeout: T });
		const id = await page.evaluate(async () => {
			const tok = document.querySelector(
			    'meta[name="csrf-token"]').content;
			const r = await fetch('/api/jobs/nightly/run', {
				method: 'POST',
				headers: { 'Content-Type': 'application/json',
				    'X-CSRF-Token': tok },
				body: '{}',
			});
			return (await r.json()).run_id;
		});
		await page.waitForFunction((n) => {
			const td = document.querySelector(
			    'tr[data-job="nightly"] td.last');
			return td && td.textContent.includes(`#${n}`) &&
			    td.textContent.includes('succeeded');
		}, { timeout: T }, id);
		await page.goto(`${BASE}/runs`, { waitUntil: 'load' });
		return true;
	});
	await check('the history filters by trigger and pages by run id',
	    async () => {
		const ids = await page.$$eval('table.runs tbody tr',
		    (r) => r.map((e) => Number(e.dataset.run)));
		const top = Math.max(...ids);
		await page.goto(`${BASE}/runs?before=${top}`,
		    { waitUntil: 'load' });
		const older = await page.$$eval('table.runs tbody tr',
		    (r) => r.map((e) => Number(e.dataset.run)));
		if (older.length !== ids.length - 1 ||
		    older.some((i) => i >= top))
			throw new Error(`before=${top}: ${older}`);
		await page.goto(`${BASE}/runs?trigger=cron`,
		    { waitUntil: 'load' });
		return await page.$('table.runs') === null &&
		    (await text(page, 'main')).includes('No runs.');
	});

	await check('without JavaScript: sign in, the catalogue, Run now by a ' +
	    'plain form post', async () => {
		const ctx = await browser.createBrowserContext();
		try {
			const p2 = await ctx.newPage();
			await p2.setJavaScriptEnabled(false);
			await login(p2, process.env.OP_USER, process.env.OP_PASS);
			if (new URL(p2.url()).pathname !== '/jobs')
				throw new Error(`signed in to ${p2.url()}`);
			await p2.waitForSelector('tr[data-job="greet"] a.run');
			await p2.goto(`${BASE}/jobs/greet`, { waitUntil: 'load' });
			await p2.type('input[name="p.who"]', 'nojs');
			await Promise.all([
				p2.waitForNavigation({ waitUntil: 'load',
				    timeout: T }),
				p2.click('form.run-form button[type="submit"]'),
			]);
			const u = new URL(p2.url());
			if (u.pathname !== '/runs' ||
			    u.searchParams.get('job') !== 'greet')
				throw new Error(`after the post: ${p2.url()}`);
			const first = await p2.$eval('table.runs tbody tr',
			    (r) => r.dataset.run);
			await p2.goto(`${BASE}/runs/${first}`, { waitUntil: 'load' });
			await shot(p2, '09-nojs-run');
			return (await p2.$eval('dl.facts', (e) => e.textContent))
			    .includes('nojs');
		} finally {
			await ctx.close();
		}
	});

	await check('signing out leads to the login form', async () => {
		await Promise.all([
			page.waitForNavigation({ waitUntil: 'load', timeout: T }),
			page.click('form.logout button'),
		]);
		return new URL(page.url()).pathname === '/login';
	});

	// A user who may only view.
	await check('a viewer signs in', async () => {
		await login(page, process.env.VIEW_USER, process.env.VIEW_PASS);
		return new URL(page.url()).pathname === '/jobs';
	});
	await check('a viewer sees the jobs but no Run now button', async () => {
		await page.waitForSelector('tr[data-job="greet"]', { timeout: T });
		return (await page.$$('a.run')).length === 0;
	});
	await check('a viewer gets no Run-now form on a job', async () => {
		await page.goto(`${BASE}/jobs/greet`, { waitUntil: 'load' });
		await shot(page, '10-viewer-job');
		return await page.$('form.run-form') === null;
	});
	await check('the API answers a viewer\'s run with 403', async () => {
		const r = await page.evaluate(async () => {
			const tok = document.querySelector(
			    'meta[name="csrf-token"]').content;
			const res = await fetch('/api/jobs/greet/run', {
				method: 'POST',
				headers: { 'Content-Type': 'application/json',
				    'X-CSRF-Token': tok },
				body: JSON.stringify({ params: {} }),
			});
			return { status: res.status, body: await res.json() };
		});
		if (r.status !== 403)
			throw new Error(`status ${r.status}`);
		return r.body.error && /permission|may not/.test(
		    r.body.error.message);
	});

	await check('no script error and no CSP violation on any page',
	    async () => {
		if (problems.length > 0)
			throw new Error(problems.join(' | '));
		return true;
	});
	await browser.close();
	process.exit(failed > 0 ? 1 : 0);
})().catch((e) => {
	console.log(`FAIL the browser session: ${e.message.split('\n')[0]}`);
	process.exit(1);
});
