// Spool's dashboard: plain JavaScript over spoold's JSON API and its live
// events (docs/http.md). Every value from the server reaches the page as
// text (textContent), never as HTML.
'use strict';

const STATES = ['blocked', 'scheduled', 'queued', 'running', 'succeeded', 'failed', 'cancelled'];
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const FEED_LIMIT = 200;

// ---- small helpers ---------------------------------------------------------

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'style') {
      // Through CSSOM: the page's Content-Security-Policy refuses style attributes.
      for (const rule of value.split(';')) {
        const colon = rule.indexOf(':');
        if (colon > 0) node.style.setProperty(rule.slice(0, colon).trim(), rule.slice(colon + 1).trim());
      }
    }
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const stateName = (wire) => (wire || '').replace('JOB_STATE_', '').toLowerCase();
const kindName = (wire) => (wire || '').replace('KIND_', '').toLowerCase();
const badge = (state) => h('span', { class: `state s-${state}`, 'data-testid': 'state' }, state.toUpperCase());
const jobLink = (id) => h('a', { href: `#/job/${encodeURIComponent(id)}`, class: 'mono' }, id);
const batchLink = (id) => h('a', { href: `#/batch/${encodeURIComponent(id)}`, class: 'mono' }, id);
const number = (n) => Number(n || 0).toLocaleString('en-US');

function clockTime(ms) {
  if (!ms) return '—';
  const d = new Date(Number(ms));
  return d.toLocaleTimeString('en-GB', { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

function duration(ms) {
  ms = Math.max(0, Number(ms));
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

let serverSkewMs = 0; // server time minus this browser's
const serverNow = () => Date.now() + serverSkewMs;
const eta = (etaMs) => (etaMs ? `in ${duration(Number(etaMs) - serverNow())}` : 'unknown');

function decodeBase64(text) {
  const binary = atob(text || '');
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** A WaitReason for people, its times shown as clock times. */
function waitText(wait) {
  switch (wait.kind) {
    case 'KIND_RUN_AT': return `scheduled for ${clockTime(wait.untilMs)}`;
    case 'KIND_RATE': return `rate limit ${wait.key}: next token ${eta(wait.untilMs)}`;
    default: return wait.text;
  }
}

/** Bytes as text for people: pretty JSON, UTF-8 text, or a hex dump's start. */
function preview(bytes) {
  if (bytes.length === 0) return '(empty)';
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const hex = Array.from(bytes.slice(0, 256), (b) => b.toString(16).padStart(2, '0')).join(' ');
    return `${bytes.length} bytes of binary data\n${hex}${bytes.length > 256 ? ' …' : ''}`;
  }
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

// ---- the API ---------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const api = {
  token: localStorage.getItem('spool.token') || '',

  headers(extra) {
    const headers = Object.assign({}, extra);
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    return headers;
  },

  async call(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: this.headers(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      let error = { code: String(response.status), message: response.statusText };
      try { error = await response.json(); } catch { /* not JSON */ }
      if (response.status === 401) askForToken();
      throw new ApiError(response.status, error.code, error.message);
    }
    return response;
  },

  async get(path) { return (await this.call('GET', path)).json(); },
  async post(path, body) { return (await this.call('POST', path, body || {})).json(); },
  async bytes(path) { return new Uint8Array(await (await this.call('GET', path)).arrayBuffer()); },
};

/**
 * Server-sent events from /api/v1/events, read with fetch so that the bearer
 * token travels in a header. Reconnects by itself, resuming after the last
 * seq it saw (the server replays what was missed).
 */
class EventStream {
  constructor(query, onEvent, onState, { finite = false } = {}) {
    this.query = query;
    // A job or batch stream that the server ends once its jobs are done is not reopened.
    this.finite = finite;
    this.onEvent = onEvent;
    this.onState = onState || (() => {});
    this.lastSeq = 0;
    this.closed = false;
    this.controller = null;
    this.run();
  }

  close() {
    this.closed = true;
    if (this.controller) this.controller.abort();
  }

  async run() {
    let delay = 500;
    while (!this.closed) {
      this.controller = new AbortController();
      try {
        const params = new URLSearchParams(this.query);
        if (this.lastSeq) params.set('after_seq', String(this.lastSeq));
        const response = await fetch(`/api/v1/events?${params}`, {
          headers: api.headers({ Accept: 'text/event-stream' }),
          signal: this.controller.signal,
        });
        if (response.status === 401) { askForToken(); throw new Error('unauthenticated'); }
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        this.onState(true);
        delay = 500;
        await this.read(response.body.getReader());
        if (this.finite && this.endedCleanly) return;
      } catch (error) {
        if (this.closed) return;
      }
      this.onState(false);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 8000);
    }
  }

  async read(reader) {
    this.endedCleanly = true;
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let id = null, kind = 'message', data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) id = line.slice(4);
          else if (line.startsWith('event: ')) kind = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (kind === 'end') { this.endedCleanly = false; continue; } // cut short (too slow, shutdown): resume
        if (id && Number(id) > 0) this.lastSeq = Number(id);
        if (data) this.onEvent(JSON.parse(data));
      }
    }
  }
}

// ---- the whole server's live feed (kept across pages) -----------------------

const feed = {
  events: [],
  listeners: new Set(),
  stream: null,

  start() {
    this.stream = new EventStream({}, (event) => {
      if (event.kind === 'KIND_SNAPSHOT') return;
      serverSkewMs = Number(event.timeMs) - Date.now();
      this.events.unshift(event);
      if (this.events.length > FEED_LIMIT) this.events.length = FEED_LIMIT;
      for (const listener of this.listeners) listener(event);
    }, setLive);
  },
};

function setLive(on) {
  const live = document.getElementById('live');
  live.className = `live ${on ? 'on' : 'off'}`;
  document.getElementById('live-text').textContent = on ? 'live' : 'reconnecting';
}

function feedRow(event, fresh) {
  const job = event.job || {};
  const state = stateName(job.state);
  let what = event.note;
  if (event.kind === 'KIND_PROGRESS') {
    const p = job.progress || {};
    what = `${Math.round((p.fraction || 0) * 100)}%${p.step ? ' · ' + p.step : ''}${p.message ? ' · ' + p.message : ''}`;
  }
  return h('tr', { class: fresh ? 'fresh' : '' },
    h('td', { class: 'mono' }, clockTime(event.timeMs)),
    h('td', {}, badge(state)),
    h('td', {}, jobLink(job.id)),
    h('td', {}, job.queue),
    h('td', {}, job.type),
    h('td', { class: 'note' }, what));
}

function feedTable(limit) {
  const body = h('tbody', { 'data-testid': 'feed' }, feed.events.slice(0, limit).map((e) => feedRow(e, false)));
  const table = h('table', { class: 'feed' },
    h('thead', {}, h('tr', {}, ['Time', 'State', 'Job', 'Queue', 'Type', 'What'].map((t) => h('th', {}, t)))),
    body);
  const empty = h('div', { class: 'empty' }, 'Waiting for the next event…');
  const panel = h('div', { class: 'panel' }, feed.events.length ? table : empty);
  const listener = (event) => {
    if (!table.isConnected) panel.replaceChildren(table);
    body.prepend(feedRow(event, true));
    while (body.children.length > limit) body.lastChild.remove();
  };
  return { panel, listener };
}

// ---- pages -------------------------------------------------------------------

let cleanup = [];
function onLeave(fn) { cleanup.push(fn); }

function every(ms, fn) {
  let timer = null, stopped = false;
  const tick = async () => {
    try { await fn(); } catch (error) { showError(error); }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  tick();
  onLeave(() => { stopped = true; clearTimeout(timer); });
}

function showError(error) {
  const box = document.getElementById('page-error');
  if (!box) return;
  box.replaceChildren(error ? h('div', { class: 'error-box' }, `${error.code || 'error'}: ${error.message}`) : '');
}

function countsBar(counts) {
  const total = STATES.reduce((sum, s) => sum + Number(counts[s] || 0), 0);
  return h('div', { class: 'bar' }, STATES.filter((s) => counts[s] > 0).map((s) =>
    h('span', { class: `c-${s}`, style: `width:${(100 * counts[s]) / total}%`, title: `${s}: ${counts[s]}` })));
}

function queueCard(queue, onChange) {
  const counts = queue.counts || {};
  const toggle = h('button', {
    class: 'ghost small', 'data-testid': `pause-${queue.name}`,
    onclick: async (e) => {
      e.target.disabled = true;
      try {
        await api.post(`/api/v1/queues/${encodeURIComponent(queue.name)}/${queue.paused ? 'resume' : 'pause'}`);
        onChange();
      } catch (error) { showError(error); }
    },
  }, queue.paused ? 'Resume' : 'Pause');
  return h('section', { class: `panel queue ${queue.paused ? 'paused' : ''}`, 'data-testid': `queue-${queue.name}` },
    h('header', {},
      h('h3', {}, h('a', { href: `#/jobs?queue=${encodeURIComponent(queue.name)}` }, queue.name),
        queue.paused ? h('span', { class: 'state s-paused', 'data-testid': 'paused' }, 'PAUSED') : ''),
      h('span', { class: 'meta' }, `${number(queue.throughputPerMinute)}/min · ${queue.runningJobIds.length}/${queue.concurrency} running`
        + (queue.meanRunMs ? ` · ~${duration(queue.meanRunMs)} a job` : ''), ' ', toggle)),
    countsBar(counts),
    h('div', { class: 'counts' }, STATES.map((s) =>
      h('a', { 'data-testid': `count-${s}`, class: 'count', href: `#/jobs?queue=${encodeURIComponent(queue.name)}&state=${s}` },
        h('span', { class: `swatch c-${s}` }), `${s} `, h('b', {}, number(counts[s]))))));
}

async function overviewPage(main) {
  const stats = h('div', { class: 'stats' });
  const queues = h('div', { class: 'queues' });
  const limiters = h('div', { class: 'panel' });
  const locks = h('div', { class: 'panel' });
  const workers = h('div', { class: 'panel' });
  const remote = h('div', { class: 'panel' });
  const schedules = h('div', {});
  const live = feedTable(12);
  feed.listeners.add(live.listener);
  onLeave(() => feed.listeners.delete(live.listener));

  main.replaceChildren(
    h('h1', {}, 'Overview'),
    h('p', { class: 'sub', id: 'server-time' }, ''),
    h('div', { id: 'page-error' }),
    stats,
    h('h2', {}, 'Queues'), queues,
    h('div', { class: 'cols' },
      h('div', {}, h('h2', {}, 'Rate limiters'), limiters),
      h('div', {}, h('h2', {}, 'Locks'), locks)),
    h('div', { class: 'cols' },
      h('div', {}, h('h2', {}, 'spoold worker slots'), workers),
      h('div', {}, h('h2', {}, 'Remote workers'), remote)),
    schedules,
    h('h2', {}, 'Live feed ', h('a', { href: '#/feed', class: 'note' }, '(all)')), live.panel);

  const refresh = async () => {
    const status = await api.get('/api/v1/status');
    showError(null);
    serverSkewMs = Number(status.serverTimeMs) - Date.now();
    document.getElementById('server-time').textContent = `Server time ${new Date(Number(status.serverTimeMs)).toLocaleString('en-GB')}`;
    const sum = (state) => status.queues.reduce((n, q) => n + Number(q.counts[state] || 0), 0);
    const perMinute = status.queues.reduce((n, q) => n + Number(q.throughputPerMinute || 0), 0);
    const busy = status.workers.filter((w) => w.busy).length;
    stats.replaceChildren(...[
      ['Waiting', sum('queued') + sum('scheduled') + sum('blocked'), 'waiting'],
      ['Running', sum('running'), 'running'],
      ['Finished / min', perMinute, 'throughput'],
      ['Failed', sum('failed'), 'failed'],
      ['Slots busy', `${busy}/${status.workers.length}`, 'slots'],
      ['Remote workers', status.remoteWorkers.length, 'remote'],
    ].map(([label, value, id]) => h('div', { class: 'panel stat', 'data-testid': `stat-${id}` },
      h('div', { class: 'label' }, label), h('div', { class: 'value' }, typeof value === 'number' ? number(value) : value))));
    queues.replaceChildren(...(status.queues.length ? status.queues.map((q) => queueCard(q, refresh))
      : [h('div', { class: 'panel empty' }, 'No queues yet.')]));

    limiters.replaceChildren(status.rateLimiters.length ? h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Key'), h('th', { class: 'num' }, 'Tokens'), h('th', { class: 'num' }, 'Rate /s'), h('th', { class: 'num' }, 'Used'))),
      h('tbody', {}, status.rateLimiters.map((l) => h('tr', {},
        h('td', { class: 'mono' }, l.key),
        h('td', { class: 'num' }, `${l.tokens.toFixed(1)} / ${l.burst}`),
        h('td', { class: 'num' }, l.ratePerSecond < l.configuredRatePerSecond ? `${l.ratePerSecond.toFixed(2)} (of ${l.configuredRatePerSecond})` : `${l.configuredRatePerSecond}`),
        h('td', { class: 'num' }, `${Math.round(l.utilisation * 100)}%`)))))
      : h('div', { class: 'empty' }, 'No rate limits configured.'));

    locks.replaceChildren(status.locks.length ? h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Key'), h('th', {}, 'Held by'), h('th', { class: 'num' }, 'Waiting'))),
      h('tbody', {}, status.locks.map((l) => h('tr', {},
        h('td', { class: 'mono' }, l.key),
        h('td', {}, l.holders.length ? l.holders.map((id) => h('div', {}, jobLink(id))) : h('span', { class: 'note' }, `free (${l.capacity} at once)`)),
        h('td', { class: 'num' }, number(l.waiters))))))
      : h('div', { class: 'empty' }, 'No lock is held or waited for.'));

    workers.replaceChildren(h('div', { class: 'slots' }, status.workers.map((w) =>
      w.busy ? h('a', { class: 'slot busy', href: `#/job/${encodeURIComponent(w.jobId)}`, title: `${w.queue}: ${w.jobId}` })
        : h('span', { class: 'slot', title: 'idle' }))));

    remote.replaceChildren(status.remoteWorkers.length ? h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Types'), h('th', { class: 'num' }, 'Jobs'), h('th', {}, 'Heartbeat'))),
      h('tbody', {}, status.remoteWorkers.map((w) => h('tr', {},
        h('td', {}, h('div', {}, w.name || w.workerId), h('div', { class: 'note mono' }, w.peer)),
        h('td', {}, w.types.map((t) => h('span', { class: 'tag' }, t))),
        h('td', { class: 'num' }, `${w.jobIds.length}/${w.capacity}`),
        h('td', {}, w.draining ? 'draining' : `${duration(serverNow() - Number(w.lastHeartbeatMs))} ago`)))))
      : h('div', { class: 'empty' }, 'No remote worker connected.'));

    const list = status.schedules || [];
    schedules.replaceChildren(...(list.length ? [h('h2', {}, 'Schedules'), h('div', { class: 'panel' }, h('table', { 'data-testid': 'schedules' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Cron'), h('th', {}, 'Next fire'), h('th', {}, 'Last job'),
        h('th', { class: 'num' }, 'Fired'), h('th', { class: 'num' }, 'Skipped'))),
      h('tbody', {}, list.map((s) => h('tr', {},
        h('td', {}, s.name),
        h('td', { class: 'mono' }, s.cron, ' ', h('span', { class: 'note' }, s.timeZone)),
        h('td', {}, Number(s.nextFireMs) ? clockTime(s.nextFireMs) : 'never'),
        h('td', {}, s.lastJobId ? jobLink(s.lastJobId) : '—', s.lastError ? h('div', { class: 'note' }, s.lastError) : ''),
        h('td', { class: 'num' }, number(s.fired)),
        h('td', { class: 'num' }, number(s.skipped)))))))] : []));
  };
  every(1500, refresh);
}

function feedPage(main) {
  const live = feedTable(FEED_LIMIT);
  feed.listeners.add(live.listener);
  onLeave(() => feed.listeners.delete(live.listener));
  main.replaceChildren(h('h1', {}, 'Live feed'),
    h('p', { class: 'sub' }, `Every queue's state and progress events as they happen (the last ${FEED_LIMIT}).`),
    live.panel);
}

function field(label, value) {
  const none = value === '' || value === undefined || (Array.isArray(value) && value.length === 0);
  return [h('dt', {}, label), h('dd', {}, none ? '—' : value)];
}

async function jobPage(main, id) {
  const head = h('div', { class: 'job-head' });
  const body = h('div', {});
  const timeline = h('ol', { class: 'timeline', 'data-testid': 'timeline' });
  const payload = h('pre', { class: 'blob', 'data-testid': 'payload' }, 'loading…');
  const seen = new Set();
  const details = h('div', { class: 'panel' });
  main.replaceChildren(h('div', { id: 'page-error' }), head, body,
    h('div', { class: 'cols' },
      h('div', {}, h('h2', {}, 'Details'), details),
      h('div', {}, h('h2', {}, 'Timeline'), h('div', { class: 'panel' }, timeline),
        h('h2', {}, 'Payload'), h('div', { class: 'panel' }, payload))));

  let job;
  try {
    job = await api.get(`/api/v1/jobs/${encodeURIComponent(id)}`);
  } catch (error) {
    head.replaceChildren(h('h1', {}, id));
    showError(error);
    return;
  }
  api.bytes(`/api/v1/jobs/${encodeURIComponent(id)}/payload`)
    .then((bytes) => { payload.textContent = preview(bytes); })
    .catch((error) => { payload.textContent = `cannot read the payload: ${error.message}`; });

  const addStep = (timeMs, state, note) => {
    const key = `${timeMs}|${state}|${note}`;
    if (seen.has(key)) return;
    seen.add(key);
    timeline.append(h('li', { class: `t-${state}` }, h('time', {}, clockTime(timeMs)), badge(state), ' ', h('span', { class: 'note' }, note)));
  };
  addStep(job.createdAtMs, ['scheduled', 'blocked'].includes(stateName(job.state)) ? stateName(job.state) : 'queued', 'enqueued');
  if (Number(job.startedAtMs)) addStep(job.startedAtMs, 'running', `attempt ${job.attempt} of ${job.maxAttempts}`);
  if (Number(job.finishedAtMs)) addStep(job.finishedAtMs, stateName(job.state), job.error ? `${job.error.code}: ${job.error.message}` : '');

  let headState = null;
  const render = () => {
    const state = stateName(job.state);
    // The head (and its button) is rebuilt only when the state changes, so
    // that progress events do not replace a button under the pointer.
    if (state !== headState) renderHead(state);
    renderBody(state);
  };
  const renderHead = (state) => {
    headState = state;
    const cancel = h('button', {
      class: 'danger', 'data-testid': 'cancel', disabled: TERMINAL.has(state),
      onclick: async (e) => {
        e.target.disabled = true;
        try { await api.post(`/api/v1/jobs/${encodeURIComponent(id)}/cancel`, { reason: 'cancelled from the dashboard' }); } catch (error) { showError(error); }
      },
    }, 'Cancel');
    const retry = (state === 'failed' || state === 'cancelled') && h('button', {
      'data-testid': 'retry',
      onclick: async (e) => {
        e.target.disabled = true;
        try {
          await api.post(`/api/v1/jobs/${encodeURIComponent(id)}/retry`, { reason: 'retried from the dashboard' });
          route(); // a new run: follow it from the start
        } catch (error) { showError(error); }
      },
    }, 'Retry');
    head.replaceChildren(h('h1', {}, job.id), badge(state), h('div', { class: 'actions' }, retry, cancel));
  };
  const renderBody = (state) => {
    const parts = [];
    if (state === 'queued' || state === 'scheduled' || state === 'blocked') {
      parts.push(h('h2', {}, 'Waiting'), h('div', { class: 'panel waiting', 'data-testid': 'waiting' },
        state === 'queued'
          ? h('div', {}, h('div', { class: 'note' }, 'Position'), h('div', { class: 'big', 'data-testid': 'position' }, `#${number(job.position)}`))
          : state === 'blocked'
            ? h('div', {}, h('div', { class: 'note' }, 'Dependencies left'), h('div', { class: 'big', 'data-testid': 'dependencies-left' }, number(job.wait ? job.wait.ahead : 0)))
            : h('div', {}, h('div', { class: 'note' }, 'Runs at'), h('div', { class: 'big' }, clockTime(job.runAtMs))),
        h('div', {}, h('div', { class: 'note' }, 'Expected done'), h('div', { class: 'big' }, eta(job.etaMs))),
        job.wait ? h('div', { class: 'why' }, h('div', { class: 'note' }, 'Why it waits'),
          h('div', { class: 'reason', 'data-testid': 'wait-reason' }, waitText(job.wait)),
          (job.wait.holderJobIds || []).length ? h('div', { class: 'note' }, job.wait.kind === 'KIND_DEPENDENCIES' ? 'waits for ' : 'held by ',
        job.wait.holderJobIds.map((id) => jobLink(id))) : '') : ''));
    }
    const p = job.progress || {};
    const fraction = state === 'succeeded' ? 1 : p.fraction || 0;
    parts.push(h('h2', {}, 'Progress'),
      h('div', { class: 'panel', style: 'padding:14px 16px' },
        h('div', { class: `progress ${state === 'succeeded' ? 'done' : ''}` }, h('div', { style: `width:${Math.round(fraction * 100)}%`, 'data-testid': 'progress' })),
        h('div', { class: 'note', style: 'margin-top:6px' },
          `${Math.round(fraction * 100)}%`, p.step ? ` · ${p.step}` : '', p.message ? ` · ${p.message}` : '',
          state === 'running' && Number(job.etaMs) ? ` · done ${eta(job.etaMs)}` : '')));

    details.replaceChildren(h('dl', { class: 'grid2' },
      field('Queue', job.queue), field('Type', job.type), field('Priority', String(job.priority)),
      field('Attempts', `${job.attempt} of ${job.maxAttempts}`),
      field('Batch', job.batchId ? batchLink(job.batchId) : ''),
      field('Created', new Date(Number(job.createdAtMs)).toLocaleString('en-GB')),
      field('Started', Number(job.startedAtMs) ? clockTime(job.startedAtMs) : ''),
      field('Finished', Number(job.finishedAtMs) ? `${clockTime(job.finishedAtMs)} (ran ${duration(job.finishedAtMs - job.startedAtMs)})` : ''),
      field('Timeout', job.timeoutMs ? duration(job.timeoutMs) : 'none'),
      field('Lock keys', job.lockKeys.map((k) => h('span', { class: 'tag' }, k))),
      field('Rate key', job.rateKey),
      field('Idempotency key', job.idempotencyKey),
      field('Depends on', [...(job.dependsOn || []).map((id) => h('div', {}, jobLink(id))),
        ...(job.dependsOnBatches || []).map((id) => h('div', {}, 'batch ', batchLink(id)))]),
      field('Labels', Object.entries(job.labels || {}).map(([k, v]) => h('span', { class: 'tag' }, `${k}=${v}`)))));
    if (job.error) {
      parts.push(h('h2', {}, 'Error'), h('div', { class: 'panel' }, h('pre', { class: 'blob', 'data-testid': 'error' },
        `${job.error.code}: ${job.error.message}${job.error.retryable ? '\n(retryable)' : ''}`)));
    }
    if (state === 'succeeded') {
      parts.push(h('h2', {}, 'Result'), h('div', { class: 'panel' }, h('pre', { class: 'blob', 'data-testid': 'result' }, preview(decodeBase64(job.result)))));
    }
    body.replaceChildren(...parts);
  };
  render();

  const stream = new EventStream({ job: id }, (event) => {
    serverSkewMs = Number(event.timeMs) - Date.now();
    const before = stateName(job.state);
    job = event.job;
    const after = stateName(job.state);
    if (event.kind === 'KIND_STATE' && (after !== before || event.note)) addStep(event.timeMs, after, event.note);
    render();
  }, null, { finite: true });
  onLeave(() => stream.close());
}

async function batchPage(main, id) {
  const jobs = new Map();
  let summary = null;
  const head = h('div', { class: 'job-head' });
  const progress = h('div', { class: 'panel', style: 'padding:14px 16px' });
  const rows = h('tbody', {});
  main.replaceChildren(h('div', { id: 'page-error' }), head, h('h2', {}, 'Progress'), progress,
    h('h2', {}, 'Jobs'), h('div', { class: 'panel' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Job', 'State', 'Type', 'Progress', 'Note'].map((t) => h('th', {}, t)))), rows)));

  let headUnfinished = null;
  const render = () => {
    const counts = (summary && summary.counts) || {};
    const percent = summary ? summary.percent : 0;
    const unfinished = ['blocked', 'scheduled', 'queued', 'running'].some((s) => counts[s] > 0);
    if (unfinished !== headUnfinished) renderHead(unfinished);
    renderProgress(counts, percent, unfinished);
  };
  const renderHead = (unfinished) => {
    headUnfinished = unfinished;
    head.replaceChildren(h('h1', {}, `Batch ${id}`), h('div', { class: 'actions' },
      h('button', {
        class: 'danger', disabled: !unfinished, 'data-testid': 'cancel-batch',
        onclick: async (e) => {
          e.target.disabled = true;
          try { await api.post(`/api/v1/batches/${encodeURIComponent(id)}/cancel`, { reason: 'cancelled from the dashboard' }); } catch (error) { showError(error); }
        },
      }, 'Cancel batch')));
  };
  const renderProgress = (counts, percent, unfinished) => {
    progress.replaceChildren(
      h('div', { class: `progress ${unfinished ? '' : 'done'}` }, h('div', { style: `width:${percent}%` })),
      h('div', { class: 'counts', style: 'margin-top:8px' },
        h('span', { 'data-testid': 'batch-percent' }, h('b', {}, `${Math.round(percent)}%`), ` of ${number(summary ? summary.total : 0)} jobs`),
        STATES.map((s) => h('span', {}, h('span', { class: `swatch c-${s}` }), `${s} `, h('b', {}, number(counts[s])))),
        unfinished && summary && Number(summary.etaMs) ? h('span', {}, `done ${eta(summary.etaMs)}`) : ''));
    rows.replaceChildren(...[...jobs.values()].map(({ job, note }) => {
      const p = job.progress || {};
      return h('tr', {}, h('td', {}, jobLink(job.id)), h('td', {}, badge(stateName(job.state))), h('td', {}, job.type),
        h('td', { class: 'num' }, `${Math.round((stateName(job.state) === 'succeeded' ? 1 : p.fraction || 0) * 100)}%`),
        h('td', { class: 'note' }, stateName(job.state) === 'queued' ? `position ${job.position}` : note));
    }));
  };

  try {
    summary = await api.get(`/api/v1/batches/${encodeURIComponent(id)}`);
  } catch (error) {
    head.replaceChildren(h('h1', {}, `Batch ${id}`));
    showError(error);
    return;
  }
  render();
  let pending = false;
  const stream = new EventStream({ batch: id }, (event) => {
    jobs.set(event.job.id, { job: event.job, note: event.note || (jobs.get(event.job.id) || {}).note || '' });
    if (event.batch) summary = event.batch;
    if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; render(); }); }
  }, null, { finite: true });
  onLeave(() => stream.close());
}

/** #/jobs?queue=&state=&type=&label=k=v&batch=&order=: ListJobs, page by page. */
async function jobsPage(main, params) {
  const form = h('form', { class: 'panel filters', 'data-testid': 'filters' });
  const results = h('div', { class: 'panel' });
  const summary = h('p', { class: 'sub', 'data-testid': 'total' }, '');
  const field = (name, label, placeholder) => h('label', {}, label,
    h('input', { name, value: params.get(name) || '', placeholder, autocomplete: 'off' }));
  const stateSelect = h('select', { name: 'state' }, h('option', { value: '' }, 'any state'),
    STATES.map((s) => h('option', { value: s, selected: params.get('state') === s }, s)));
  const orderSelect = h('select', { name: 'order' }, h('option', { value: 'newest' }, 'newest first'),
    h('option', { value: 'oldest', selected: params.get('order') === 'oldest' }, 'oldest first'));
  form.append(field('queue', 'Queue', 'any'), h('label', {}, 'State', stateSelect), field('type', 'Type', 'any'),
    field('label', 'Label', 'key=value'), field('batch', 'Batch', 'id'), h('label', {}, 'Order', orderSelect),
    h('button', { type: 'submit', 'data-testid': 'search' }, 'Search'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (value && !(key === 'order' && value === 'newest')) next.set(key, value);
    location.hash = `#/jobs?${next}`;
  });
  main.replaceChildren(h('h1', {}, 'Jobs'), summary, h('div', { id: 'page-error' }), form, results);

  const tokens = [''];
  const load = async (page) => {
    const query = new URLSearchParams(params);
    query.set('page_size', '25');
    if (tokens[page]) query.set('page_token', tokens[page]);
    let answer;
    try {
      answer = await api.get(`/api/v1/jobs?${query}`);
    } catch (error) {
      showError(error);
      return;
    }
    showError(null);
    tokens[page + 1] = answer.nextPageToken;
    summary.textContent = `${number(answer.total)} job${answer.total === 1 ? '' : 's'} match`;
    const rows = answer.jobs.map((job) => h('tr', {},
      h('td', {}, jobLink(job.id)), h('td', {}, badge(stateName(job.state))), h('td', {}, job.queue), h('td', {}, job.type),
      h('td', {}, Object.entries(job.labels || {}).map(([k, v]) => h('span', { class: 'tag' }, `${k}=${v}`))),
      h('td', { class: 'num' }, `${job.attempt}/${job.maxAttempts}`),
      h('td', { class: 'mono' }, new Date(Number(job.createdAtMs)).toLocaleString('en-GB')),
      h('td', { class: 'note' }, job.wait ? (job.wait.kind === 'KIND_BEHIND' ? `position ${job.position}` : waitText(job.wait))
        : (job.error ? job.error.message : ''))));
    const pager = h('div', { class: 'pager' },
      h('button', { class: 'ghost small', disabled: page === 0, onclick: () => load(page - 1) }, '← Newer'),
      h('span', { class: 'note' }, `page ${page + 1}`),
      h('button', { class: 'ghost small', disabled: !answer.nextPageToken, 'data-testid': 'next-page', onclick: () => load(page + 1) }, 'Older →'));
    results.replaceChildren(answer.jobs.length ? h('table', { 'data-testid': 'jobs' },
      h('thead', {}, h('tr', {}, ['Job', 'State', 'Queue', 'Type', 'Labels', 'Attempts', 'Created', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, rows)) : h('div', { class: 'empty' }, 'No job matches.'), pager);
  };
  load(0);
}

// ---- routing -------------------------------------------------------------------

function route() {
  for (const fn of cleanup) fn();
  cleanup = [];
  const main = document.getElementById('main');
  const [path, search] = (location.hash || '#/').slice(1).split('?');
  const [, page, ...rest] = path.split('/');
  const arg = decodeURIComponent(rest.join('/'));
  const params = new URLSearchParams(search || '');
  for (const link of document.querySelectorAll('[data-nav]')) {
    link.classList.toggle('active', link.dataset.nav === (page || 'overview'));
  }
  window.scrollTo(0, 0);
  switch (page) {
    case 'job': return jobPage(main, arg);
    case 'batch': return batchPage(main, arg);
    case 'feed': return feedPage(main);
    case 'jobs': return jobsPage(main, params);
    default: return overviewPage(main);
  }
}

function askForToken() {
  const dialog = document.getElementById('token-dialog');
  if (!dialog.open) dialog.showModal();
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('token-button').addEventListener('click', askForToken);
  document.getElementById('token-dialog').addEventListener('close', () => {
    const dialog = document.getElementById('token-dialog');
    if (dialog.returnValue !== 'save') return;
    api.token = document.getElementById('token-input').value.trim();
    localStorage.setItem('spool.token', api.token);
    feed.stream.close();
    feed.start();
    route();
  });
  document.getElementById('find').addEventListener('submit', async (e) => {
    e.preventDefault();
    const id = document.getElementById('find-input').value.trim();
    if (!id) return;
    if (id.includes('=')) { // key=value: the jobs with that label
      location.hash = `#/jobs?${new URLSearchParams({ label: id })}`;
      return;
    }
    // A job id, else a batch id.
    try {
      await api.get(`/api/v1/jobs/${encodeURIComponent(id)}`);
      location.hash = `#/job/${encodeURIComponent(id)}`;
    } catch {
      location.hash = `#/batch/${encodeURIComponent(id)}`;
    }
  });
  window.addEventListener('hashchange', route);
  feed.start();
  route();
});
