// Nomaflow web UI: progressive enhancement of the server-rendered pages.
// Plain ES2020, no framework, no build step.  Every page works without this
// file; with it: times in the browser's zone, forms sent with fetch (errors
// shown inline, the CSRF token in a header), live run states from
// /api/events and the live log tail of a run from its log stream.
// Text from the server is only ever put into the page with textContent.
'use strict';

(() => {
	const csrf = () => {
		const m = document.querySelector('meta[name="csrf-token"]');
		return m ? m.content : '';
	};

	// Times: <time datetime="...Z"> in the browser's zone.
	const pad = (n, w = 2) => String(n).padStart(w, '0');
	const localTime = (el) => {
		const d = new Date(el.getAttribute('datetime'));
		if (Number.isNaN(d.getTime()))
			return;
		el.title = el.getAttribute('datetime');
		if (el.dataset.clock)
			el.textContent = `${pad(d.getHours())}:${pad(d.getMinutes())}:` +
			    `${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
		else
			el.textContent = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-` +
			    `${pad(d.getDate())} ${pad(d.getHours())}:` +
			    `${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
	};
	const localTimes = (root) =>
	    root.querySelectorAll('time[datetime]').forEach(localTime);

	const el = (tag, attrs = {}, ...kids) => {
		const e = document.createElement(tag);
		for (const [k, v] of Object.entries(attrs))
			if (v !== undefined && v !== null)
				e.setAttribute(k, v);
		for (const k of kids)
			if (k !== undefined && k !== null)
				e.append(k);
		return e;
	};
	const timeEl = (ms, clock) => {
		if (typeof ms !== 'number')
			return '-';
		const t = el('time', { datetime: new Date(ms).toISOString() });
		if (clock)
			t.dataset.clock = '1';
		localTime(t);
		return t;
	};
	const stateEl = (state) => el('span',
	    { class: `state st-${state || 'unknown'}` }, state || 'unknown');

	// The API: JSON in and out, errors as {"error": {"code", "message"}}.
	async function api(method, url, body) {
		const headers = { 'Accept': 'application/json',
		    'X-CSRF-Token': csrf() };
		if (body !== undefined)
			headers['Content-Type'] = 'application/json';
		const r = await fetch(url, { method, headers,
		    credentials: 'same-origin',
		    body: body === undefined ? undefined : JSON.stringify(body) });
		let data = null;
		try {
			data = await r.json();
		} catch (e) {
			data = null;
		}
		if (!r.ok) {
			const msg = data && data.error && data.error.message ?
			    data.error.message : `${r.status} ${r.statusText}`;
			const err = new Error(msg);
			err.status = r.status;
			throw err;
		}
		return data && data.data !== undefined ? data.data : data;
	}

	const runIdOf = (d) => d && (d.run_id ?? d.id);

	// Forms: data-api names what the form does.
	const formBody = {
		login: (f) => ({ user: f.elements.user.value,
		    password: f.elements.password.value }),
		run: (f) => {
			const params = {};
			for (const e of f.elements)
				if (e.name && e.name.startsWith('p.') &&
				    e.value !== '')
					params[e.name.slice(2)] = e.value;
			const b = { params };
			if (f.elements.preset && f.elements.preset.value)
				b.preset = f.elements.preset.value;
			if (f.elements.force && f.elements.force.checked)
				b.force = true;
			return b;
		},
	};
	const formDone = {
		login: () => {
			const next = new URLSearchParams(location.search).get('next');
			location.assign(next && next.startsWith('/') &&
			    !next.startsWith('//') ? next : '/jobs');
		},
		logout: () => location.assign('/login'),
		run: (d) => location.assign(`/runs/${runIdOf(d)}`),
		replay: (d) => location.assign(`/runs/${runIdOf(d)}`),
		cancel: (d, f) => {
			const b = f.querySelector('button');
			b.textContent = 'Cancel requested';
			b.disabled = true;
			refreshRun();
		},
		enable: () => location.reload(),
		disable: () => location.reload(),
	};

	document.addEventListener('submit', async (ev) => {
		const f = ev.target;
		const kind = f.dataset && f.dataset.api;
		if (!kind)
			return;
		ev.preventDefault();
		const out = f.querySelector('.form-error');
		const btn = f.querySelector('button[type="submit"]');
		if (out)
			out.textContent = '';
		if (btn)
			btn.disabled = true;
		try {
			const body = formBody[kind] ? formBody[kind](f) : {};
			const d = await api('POST', f.getAttribute('action'), body);
			(formDone[kind] || (() => location.reload()))(d, f);
			if (btn && kind !== 'cancel')
				btn.disabled = false;
		} catch (e) {
			if (btn)
				btn.disabled = false;
			if (out)
				out.textContent = e.message;
			else
				alert(e.message);
		}
	});

	// The run page: parts re-read from the server when a step moves.
	const runBox = document.querySelector('div.run[data-run]');
	let refreshing = false, again = false;
	function refreshRun() {
		if (!runBox)
			return;
		// One at a time; a change during a refresh asks for another.
		if (refreshing) {
			again = true;
			return;
		}
		refreshing = true;
		setTimeout(async () => {
			try {
				const r = await fetch(location.pathname,
				    { credentials: 'same-origin' });
				if (!r.ok)
					return;
				const doc = new DOMParser().parseFromString(
				    await r.text(), 'text/html');
				for (const sel of ['dl.facts', '.actions',
				    'section[aria-labelledby="steps-h"]',
				    'section[aria-labelledby="out-h"]']) {
					const now = document.querySelector(sel);
					const fresh = doc.querySelector(sel);
					if (now && fresh)
						now.replaceWith(fresh);
					else if (!now && fresh)
						document.querySelector(
						    'section[aria-labelledby="log-h"]')
						    .before(fresh);
					if (fresh)
						localTimes(fresh);
				}
				runBox.dataset.refreshed = String(
				    Number(runBox.dataset.refreshed || 0) + 1);
			} catch (e) {
				// The next event refreshes again.
			} finally {
				refreshing = false;
				if (again) {
					again = false;
					refreshRun();
				}
			}
		}, 200);
	}

	// Live states from /api/events.
	const runsTable = document.querySelector('table[data-live="runs"]');
	const jobsTable = document.querySelector('table[data-live="jobs"]');
	const runJob = new Map();	// run id -> job id
	const runGets = new Map();	// run id -> its GET /api/runs/N
	const getRun = (id) => {
		if (!runGets.has(id))
			runGets.set(id, api('GET', `/api/runs/${id}`));
		return runGets.get(id);
	};

	function runRow(r) {
		const tr = el('tr', { 'data-run': r.id, 'data-job': r.job_id,
		    class: 'new' });
		const state = el('td', { class: 'state-cell' },
		    stateEl(r.state));
		if (r.reason)
			state.append(' ', el('span', { class: 'reason' },
			    `(${r.reason})`));
		tr.append(
		    el('th', { scope: 'row' }, el('a', { href: `/runs/${r.id}` },
			`#${r.id}`)),
		    el('td', {}, el('a', { href: `/jobs/${encodeURIComponent(
			r.job_id)}` }, r.job_id)),
		    state,
		    el('td', {}, r.trigger || ''),
		    el('td', {}, r.triggered_by || ''),
		    el('td', {}, timeEl(r.created_at)),
		    el('td', {}, ''),
		    el('td', { class: 'err' }, r.error || ''));
		return tr;
	}

	const matches = (r) => {
		const f = runsTable.dataset;
		return (!f.fJob || f.fJob === r.job_id) &&
		    (!f.fState || f.fState === r.state) &&
		    (!f.fTrigger || f.fTrigger === r.trigger);
	};

	async function onRunEvent(d, kind) {
		const id = runIdOf(d);
		if (!id)
			return;
		const state = d.state;
		let job = d.job_id || d.job || runJob.get(id);
		if (runsTable) {
			const tr = runsTable.querySelector(`tr[data-run="${id}"]`);
			if (tr && state) {
				const td = tr.querySelector('.state-cell');
				td.replaceChildren(stateEl(state));
				if (d.reason)
					td.append(' ', el('span',
					    { class: 'reason' }, `(${d.reason})`));
				if (d.error)
					tr.querySelector('.err').textContent = d.error;
			} else if (!tr) {
				try {
					const r = await getRun(id);
					job = r.job_id;
					if (matches(r) && !runsTable.querySelector(
					    `tr[data-run="${id}"]`))
						runsTable.tBodies[0].prepend(runRow(r));
				} catch (e) {
					// Not ours to see, or gone.
				}
			}
		}
		if (jobsTable && state) {
			if (!job) {
				try {
					job = (await getRun(id)).job_id;
				} catch (e) {
					return;
				}
			}
			runJob.set(id, job);
			const tr = [...jobsTable.querySelectorAll('tr[data-job]')]
			    .find((t) => t.dataset.job === job);
			const td = tr && tr.querySelector('td.last');
			if (td)
				td.replaceChildren(el('a', { href: `/runs/${id}` },
				    stateEl(state), ' ', el('span',
				    { class: 'runid' }, `#${id}`)));
		}
		if (runBox && String(id) === runBox.dataset.run) {
			const dd = runBox.querySelector('dl.facts .state-cell');
			if (dd && state)
				dd.replaceChildren(stateEl(state));
			if (kind !== 'progress')
				refreshRun();
		}
	}

	if (runsTable || jobsTable || runBox) {
		const es = new EventSource('/api/events');
		const handle = (kind) => (e) => {
			let d;
			try {
				d = JSON.parse(e.data);
			} catch (x) {
				return;
			}
			onRunEvent(d, kind);
		};
		for (const k of ['message', 'state', 'step', 'end', 'run',
		    'progress'])
			es.addEventListener(k, handle(k));
		// Whether the page is live (the browser test waits for it).
		es.addEventListener('open', () => {
			document.body.dataset.live = 'on';
		});
		es.addEventListener('error', () => {
			document.body.dataset.live = 'off';
		});
	}

	// The live log tail of a running run.
	const log = document.getElementById('log');
	function logLine(l) {
		const err = l.stream === 'stderr' || l.level === 'error';
		const div = el('div', { class: err ? 'll ll-err' : 'll',
		    'data-seq': l.seq });
		div.append(timeEl(l.ts, true), ' ');
		const src = el('span', { class: 'src' });
		if (l.step)
			src.append(`${l.step}${l.attempt != null ?
			    `[${l.attempt}]` : ''} `);
		if (err)
			src.append(el('strong', {}, `${l.stream === 'stderr' ?
			    'STDERR' : (l.stream || '-')}:`));
		else
			src.append(`${l.stream || '-'}:`);
		div.append(src, ' ');
		if (l.level && l.level !== 'info')
			div.append(`${l.level}: `);
		div.append(el('span', { class: 'text' }, l.line ?? ''));
		return div;
	}

	if (log && runBox && log.dataset.follow) {
		let last = Number(log.dataset.after) || 0;
		const url = `/api/runs/${runBox.dataset.run}/log/stream?last_event_id=${last}`;
		const es = new EventSource(url);
		const onLine = (e) => {
			let l;
			try {
				l = JSON.parse(e.data);
			} catch (x) {
				return;
			}
			const seq = Number(l.seq ?? e.lastEventId);
			if (seq && seq <= last)
				return;		// already on the page
			if (seq)
				last = seq;
			// Follow the tail unless the reader scrolled up.
			const atEnd = log.scrollHeight - log.scrollTop -
			    log.clientHeight < 40;
			const none = log.querySelector('.none');
			if (none)
				none.remove();
			log.append(logLine(l));
			if (atEnd)
				log.scrollTop = log.scrollHeight;
		};
		es.addEventListener('message', onLine);
		es.addEventListener('log', onLine);
		es.addEventListener('end', () => {
			es.close();
			delete log.dataset.follow;
			refreshRun();
		});
		log.scrollTop = log.scrollHeight;
	}

	localTimes(document);
})();
