/**
 * The viewer: one HTML page with its style and script inline, served at `/`. No framework and
 * nothing fetched from elsewhere, so it works on a machine with no network. The page reads
 * Jaeger's `/api/v3` (services, operations, trace-summaries, traces/{id} with raw_traces=true,
 * so events keep their order) and listens to `/viewer/events`, our Server-Sent Events stream, to
 * refresh itself as spans arrive.
 *
 * Its pure logic lives in layout.ts, table-tested in Node; the page embeds those functions'
 * own source, so the browser runs what the tests test. The rest is DOM code, checked by the
 * browser test (cli/test/viewer-browser.test.ts).
 */
import {
  anyValueText,
  flattenTrace,
  formatDuration,
  kindLabel,
  layoutTrace,
  parseSearchText,
  serviceColours,
  statusLabel,
  summaryMatches,
} from './layout.js';

/** The layout.ts functions the page script calls, embedded by name. */
export const VIEWER_FUNCTIONS: ReadonlyArray<(...args: never[]) => unknown> = [
  anyValueText,
  flattenTrace,
  layoutTrace,
  serviceColours,
  formatDuration,
  parseSearchText,
  summaryMatches,
  kindLabel,
  statusLabel,
];

const STYLE = String.raw`
:root { --fg:#1d2329; --muted:#6a737d; --line:#e1e4e8; --bg:#fff; --sel:#fff6d6; --err:#d73a49; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); }
* { box-sizing: border-box; }
body { margin: 0; height: 100vh; display: flex; flex-direction: column; background: var(--bg); }
header { display: flex; align-items: center; gap: 16px; padding: 6px 12px; border-bottom: 1px solid var(--line); background: #f6f8fa; }
header h1 { font-size: 15px; margin: 0; }
.legend { display: flex; flex-wrap: wrap; gap: 10px; }
.svc { display: inline-flex; align-items: center; gap: 4px; white-space: nowrap; }
.swatch { width: 10px; height: 10px; border-radius: 2px; display: inline-block; }
#live { margin-left: auto; color: var(--muted); }
#live.on::before { content: "● "; color: #28a745; }
#live.off::before { content: "● "; color: var(--muted); }
main { flex: 1; display: flex; min-height: 0; }
#list-pane { width: 42%; min-width: 360px; border-right: 1px solid var(--line); display: flex; flex-direction: column; }
#search { display: flex; flex-wrap: wrap; gap: 6px; padding: 8px; border-bottom: 1px solid var(--line); }
#search input[type=search] { flex: 1 1 100%; padding: 4px 6px; }
#search select { max-width: 48%; }
.status { padding: 4px 8px; color: var(--muted); min-height: 1.4em; }
.status.bad { color: var(--err); }
.scroll { overflow: auto; flex: 1; min-height: 0; }
table { border-collapse: collapse; width: 100%; }
th { text-align: left; font-weight: 600; color: var(--muted); position: sticky; top: 0; background: var(--bg); }
th, td { padding: 3px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
#traces tbody tr { cursor: pointer; }
#traces tbody tr:hover { background: #f1f8ff; }
#traces tr.selected { background: var(--sel); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
#traces { table-layout: fixed; }
#traces td { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#traces .c-start { width: 108px; } #traces .c-svc { width: 112px; } #traces .c-num { width: 64px; } #traces .c-dur { width: 76px; }
.errors { color: var(--err); font-weight: 600; }
#trace-pane { flex: 1; display: flex; flex-direction: column; min-width: 0; }
[hidden] { display: none !important; }
#trace { flex: 1; display: flex; flex-direction: column; min-height: 0; }
#trace-empty { padding: 24px; color: var(--muted); }
#trace-head { padding: 8px 12px; border-bottom: 1px solid var(--line); }
#trace-head h2 { font-size: 14px; margin: 0 0 4px; }
#trace-head .meta { color: var(--muted); }
#waterfall { overflow: auto; flex: 1; min-height: 0; }
.row { display: flex; border-bottom: 1px solid #f0f0f0; min-height: 22px; align-items: center; cursor: pointer; }
.row:hover { background: #f6f8fa; }
.row.selected { background: var(--sel); }
.axis { position: sticky; top: 0; background: var(--bg); z-index: 1; cursor: default; color: var(--muted); border-bottom: 1px solid var(--line); }
.label { width: 40%; min-width: 220px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; padding-right: 6px; }
.label .svc-name { color: var(--muted); margin-left: 6px; font-size: 11px; }
.err-mark { display: inline-block; background: var(--err); color: #fff; border-radius: 7px; font-size: 10px; font-weight: 700; padding: 0 5px; margin-left: 6px; }
.orphan-mark { color: var(--muted); font-size: 11px; margin-left: 6px; }
.lane { flex: 1; position: relative; height: 22px; margin-right: 70px; }
.bar { position: absolute; top: 5px; height: 12px; min-width: 2px; border-radius: 2px; }
.row.error .bar { outline: 2px solid var(--err); outline-offset: 1px; }
.dur { position: absolute; top: 3px; font-size: 11px; color: var(--muted); white-space: nowrap; padding-left: 4px; }
.tick { position: absolute; top: 3px; font-size: 11px; border-left: 1px solid var(--line); padding-left: 3px; height: 16px; }
#span-detail { border-top: 2px solid var(--line); max-height: 48%; overflow: auto; padding: 8px 12px; }
#span-detail h3 { margin: 0 0 4px; font-size: 14px; }
#span-detail h4 { margin: 10px 0 2px; font-size: 12px; color: var(--muted); text-transform: uppercase; }
#span-detail .meta { color: var(--muted); }
#span-detail code { font-size: 12px; }
td.type { color: var(--muted); font-size: 11px; width: 1%; }
td.key { width: 30%; font-family: ui-monospace, monospace; font-size: 12px; }
td.value { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; }
.status-error { color: var(--err); font-weight: 600; }
`;

/** The page's DOM code. Plain strings and no template literals, as it sits in one. */
const SCRIPT = String.raw`
'use strict';
const state = { colours: {}, services: [], summaries: [], traceId: '', waterfall: null, spanId: '', live: true, listTimer: 0, traceTimer: 0, lastServices: 0 };
const $ = (id) => document.getElementById(id);

function el(tag, attrs, children) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) {
    const v = attrs[k];
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children || []) if (c !== null && c !== undefined) e.append(c);
  return e;
}

async function getJson(url) {
  const res = await fetch(url, { cache: 'no-store' });
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch (e) { body = null; }
  return { status: res.status, body, text };
}
const errorText = (r) => (r.body && r.body.error && r.body.error.message) || ('HTTP ' + r.status + ' ' + r.text);

function colour(service) { return state.colours[service] || '#999'; }
function swatch(service) { return el('span', { class: 'swatch', style: 'background:' + colour(service) }); }
function serviceTag(service) { return el('span', { class: 'svc', 'data-service': service }, [swatch(service), service || '(no service.name)']); }

async function loadServices() {
  state.lastServices = Date.now();
  const r = await getJson('api/v3/services');
  const services = (r.body && r.body.services) || [];
  if (services.join('\n') === state.services.join('\n')) return;
  state.services = services;
  state.colours = serviceColours(services);
  $('legend').replaceChildren(...services.map(serviceTag));
  const sel = $('service');
  const current = sel.value;
  sel.replaceChildren(el('option', { value: '', text: 'all services' }), ...services.map((s) => el('option', { value: s, text: s })));
  sel.value = services.includes(current) ? current : '';
  if (state.waterfall) renderTrace();
}

async function loadOperations() {
  const service = $('service').value;
  const sel = $('operation');
  const keep = sel.value;
  const opts = [el('option', { value: '', text: 'all operations' })];
  if (service) {
    const r = await getJson('api/v3/operations?service=' + encodeURIComponent(service));
    const names = [...new Set(((r.body && r.body.operations) || []).map((o) => o.name))].sort();
    for (const n of names) opts.push(el('option', { value: n, text: n }));
  }
  sel.replaceChildren(...opts);
  sel.value = [...sel.options].some((o) => o.value === keep) ? keep : '';
}

function listUrl() {
  const now = Date.now();
  const q = new URLSearchParams();
  q.set('query.start_time_min', new Date(now - Number($('lookback').value) * 1000).toISOString());
  // A little ahead, for spans stamped by a clock ahead of ours.
  q.set('query.start_time_max', new Date(now + 60000).toISOString());
  q.set('query.search_depth', $('limit').value);
  if ($('service').value) q.set('query.service_name', $('service').value);
  if ($('operation').value) q.set('query.operation_name', $('operation').value);
  const search = parseSearchText($('q').value);
  if (Object.keys(search.attributes).length > 0) q.set('query.attributes', JSON.stringify(search.attributes));
  return { url: 'api/v3/trace-summaries?' + q.toString(), words: search.words };
}

async function loadList() {
  const { url, words } = listUrl();
  const r = await getJson(url);
  const status = $('list-status');
  if (r.status !== 200) {
    status.textContent = errorText(r);
    status.className = 'status bad';
    return;
  }
  const all = (r.body && r.body.summaries) || [];
  state.summaries = all.filter((s) => summaryMatches(s, words));
  status.className = 'status';
  status.textContent = state.summaries.length + ' of the ' + all.length + ' newest traces' + (words.length ? ' match' : '');
  renderList();
}

function renderList() {
  const rows = state.summaries.map((s) => {
    const start = BigInt(s.minStartTimeUnixNano || '0');
    const end = BigInt(s.maxEndTimeUnixNano || '0');
    const t = new Date(Number(start / 1000000n));
    const time = t.toLocaleTimeString([], { hour12: false }) + '.' + String(t.getMilliseconds()).padStart(3, '0');
    const errors = s.errorSpanCount || 0;
    return el('tr', { 'data-trace-id': s.traceId, class: s.traceId === state.traceId ? 'selected' : '', onclick: () => { location.hash = 'trace=' + s.traceId; } }, [
      el('td', { text: time, title: s.traceId }),
      el('td', {}, [serviceTag(s.rootServiceName || '')]),
      el('td', { class: 'root', text: s.rootOperationName || '(no root span yet)', title: s.rootOperationName || '' }),
      el('td', { class: 'num spans', text: String(s.spanCount || 0) }),
      el('td', { class: 'num duration', text: formatDuration(Number(end - start)) }),
      el('td', { class: 'num' + (errors ? ' errors' : ''), text: errors ? String(errors) : '' }),
    ]);
  });
  $('traces').tBodies[0].replaceChildren(...rows);
}

async function openTrace(traceId, spanId) {
  const r = await getJson('api/v3/traces/' + encodeURIComponent(traceId) + '?raw_traces=true');
  // A live refresh of the open trace keeps the selected span; another trace starts with none.
  state.spanId = spanId || (traceId === state.traceId ? state.spanId : '');
  state.traceId = traceId;
  for (const tr of $('traces').tBodies[0].rows) tr.classList.toggle('selected', tr.dataset.traceId === traceId);
  $('trace-empty').hidden = r.status === 200;
  $('trace').hidden = r.status !== 200;
  if (r.status !== 200) {
    state.waterfall = null;
    $('trace-empty').textContent = 'Trace ' + traceId + ': ' + errorText(r) + ' (not received, or evicted).';
    $('span-detail').hidden = true;
    return;
  }
  state.waterfall = layoutTrace(flattenTrace(r.body.result.resourceSpans || []));
  renderTrace();
}

function renderTrace() {
  const w = state.waterfall;
  const total = Math.max(w.duration, 1);
  const rows = w.rows;
  const root = rows.find((r) => r.depth === 0) || rows[0];
  const services = [...new Set(rows.map((r) => r.span.service))].sort();
  const errors = rows.filter((r) => r.span.status.code === 2).length;
  $('trace-head').replaceChildren(
    el('h2', { text: (root ? root.span.service + ': ' + root.span.name : '') }),
    el('div', { class: 'meta' }, [
      'trace ', el('code', { id: 'trace-id', text: state.traceId }), ' · ' + rows.length + ' spans · ' + formatDuration(w.duration) +
      (errors ? ' · ' : ''), errors ? el('span', { class: 'errors', text: errors + ' error' + (errors > 1 ? 's' : '') }) : null,
    ]),
    el('div', { class: 'legend trace-legend' }, services.map(serviceTag)),
  );
  const axis = el('div', { class: 'row axis' }, [
    el('div', { class: 'label', text: 'span' }),
    el('div', { class: 'lane' }, [0, 0.25, 0.5, 0.75].map((f) => el('span', { class: 'tick', style: 'left:' + f * 100 + '%', text: formatDuration(w.duration * f) }))),
  ]);
  const list = rows.map((r) => {
    const s = r.span;
    const left = (r.offset / total) * 100;
    const width = Math.max((r.duration / total) * 100, 0);
    const isError = s.status.code === 2;
    return el('div', {
      class: 'row span-row' + (isError ? ' error' : '') + (s.spanId === state.spanId ? ' selected' : ''),
      'data-span-id': s.spanId, 'data-parent-span-id': s.parentSpanId, 'data-service': s.service, 'data-depth': r.depth,
      onclick: () => selectSpan(s.spanId),
    }, [
      el('div', { class: 'label', style: 'padding-left:' + (4 + r.depth * 14) + 'px', title: s.name }, [
        swatch(s.service), ' ', el('span', { class: 'name', text: s.name }), el('span', { class: 'svc-name', text: s.service }),
        isError ? el('span', { class: 'err-mark', title: 'status ERROR' + (s.status.message ? ': ' + s.status.message : ''), text: '!' }) : null,
        r.orphan ? el('span', { class: 'orphan-mark', title: 'parent ' + s.parentSpanId + ' not in this trace', text: '(parent missing)' }) : null,
      ]),
      el('div', { class: 'lane' }, [
        el('div', { class: 'bar', style: 'left:' + left + '%;width:' + width + '%;background:' + colour(s.service) }),
        el('span', { class: 'dur', style: 'left:' + Math.min(left + width, 100) + '%', text: formatDuration(r.duration) }),
      ]),
    ]);
  });
  $('waterfall').replaceChildren(axis, ...list);
  renderSpan();
}

function selectSpan(spanId) {
  state.spanId = spanId;
  let selected = null;
  for (const row of document.querySelectorAll('.span-row')) {
    row.classList.toggle('selected', row.dataset.spanId === spanId);
    if (row.dataset.spanId === spanId) selected = row;
  }
  renderSpan();
  // After the details open below, which shortens the waterfall.
  if (selected) selected.scrollIntoView({ block: 'nearest' });
}

function kvTable(cls, kvs) {
  if (!kvs.length) return el('div', { class: 'meta', text: 'none' });
  return el('table', { class: 'kv ' + cls }, [el('tbody', {}, kvs.map((kv) => {
    const [text, type] = anyValueText(kv.value);
    return el('tr', { 'data-key': kv.key }, [el('td', { class: 'key', text: kv.key }), el('td', { class: 'value', text }), el('td', { class: 'type', text: type })]);
  }))]);
}
const inlineKvs = (kvs) => kvs.map((kv) => kv.key + '=' + anyValueText(kv.value)[0]).join('  ');

function renderSpan() {
  const box = $('span-detail');
  const row = state.waterfall && state.waterfall.rows.find((r) => r.span.spanId === state.spanId);
  if (!row) { box.hidden = true; return; }
  const s = row.span;
  const w = state.waterfall;
  const known = new Set(w.rows.map((r) => r.span.spanId));
  box.hidden = false;
  box.dataset.spanId = s.spanId;
  box.replaceChildren(
    el('h3', {}, [swatch(s.service), ' ', el('span', { class: 'span-name', text: s.name })]),
    el('div', { class: 'meta' }, [
      s.service + ' · ' + kindLabel(s.kind) + ' · ', el('span', { class: 'span-status' + (s.status.code === 2 ? ' status-error' : ''), text: statusLabel(s.status.code) + (s.status.message ? ': ' + s.status.message : '') }),
      ' · ' + formatDuration(row.duration) + ' · starts at +' + formatDuration(row.offset),
    ]),
    el('div', { class: 'meta' }, ['span ', el('code', { text: s.spanId }), s.parentSpanId ? ' · parent ' : '', s.parentSpanId ? el('code', { text: s.parentSpanId }) : null]),
    el('h4', { text: 'Attributes (' + s.attributes.length + ')' }), kvTable('attributes', s.attributes),
    el('h4', { text: 'Events (' + s.events.length + ')' }),
    s.events.length ? el('table', { class: 'events' }, [el('tbody', {}, s.events.map((e) => el('tr', {}, [
      el('td', { class: 'num', text: '+' + formatDuration(Number(e.time - s.start)) }), el('td', { text: e.name }), el('td', { class: 'value', text: inlineKvs(e.attributes) }),
    ])))]) : el('div', { class: 'meta', text: 'none' }),
    el('h4', { text: 'Links (' + s.links.length + ')' }),
    s.links.length ? el('table', { class: 'links' }, [el('tbody', {}, s.links.map((l) => el('tr', {}, [
      el('td', {}, [l.traceId === state.traceId && known.has(l.spanId)
        ? el('a', { href: '#', onclick: (ev) => { ev.preventDefault(); selectSpan(l.spanId); }, text: 'span ' + l.spanId + ' in this trace' })
        : el('a', { href: '#trace=' + l.traceId + '&span=' + l.spanId, text: 'trace ' + l.traceId + ' span ' + l.spanId })]),
      el('td', { class: 'value', text: inlineKvs(l.attributes) }),
    ])))]) : el('div', { class: 'meta', text: 'none' }),
    el('h4', { text: 'Resource' }), kvTable('resource', s.resource),
    el('h4', { text: 'Scope' }), el('div', {}, [el('code', { class: 'scope', text: s.scope.name + (s.scope.version ? ' ' + s.scope.version : '') })]),
    s.scope.attributes.length ? kvTable('scope-attributes', s.scope.attributes) : null,
  );
}

function fromHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  const id = h.get('trace');
  if (id) openTrace(id, h.get('span') || '');
}

function scheduleList(ms) { clearTimeout(state.listTimer); state.listTimer = setTimeout(loadList, ms); }

function listen() {
  const es = new EventSource('viewer/events');
  es.onopen = () => { $('live').className = 'on'; $('live').textContent = 'live'; };
  es.onerror = () => { $('live').className = 'off'; $('live').textContent = 'reconnecting'; };
  es.addEventListener('spans', (ev) => {
    if (!$('live-toggle').checked) return;
    const data = JSON.parse(ev.data);
    if (Date.now() - state.lastServices > 5000) loadServices();
    scheduleList(300);
    if (state.traceId && data.traceIds.includes(state.traceId)) {
      clearTimeout(state.traceTimer);
      state.traceTimer = setTimeout(() => openTrace(state.traceId, state.spanId), 300);
    }
  });
}

$('service').addEventListener('change', async () => { await loadOperations(); loadList(); });
$('operation').addEventListener('change', loadList);
$('lookback').addEventListener('change', loadList);
$('limit').addEventListener('change', loadList);
$('q').addEventListener('input', () => scheduleList(250));
$('search').addEventListener('submit', (ev) => { ev.preventDefault(); loadList(); });
window.addEventListener('hashchange', fromHash);
loadServices().then(loadList).then(fromHash);
listen();
`;

const BODY = String.raw`
<header>
  <h1>k8s-trace-sim traces</h1>
  <div id="legend" class="legend" title="services, in their colours"></div>
  <span id="live" class="off" title="updated live from /viewer/events (Server-Sent Events)">connecting</span>
</header>
<main>
  <section id="list-pane">
    <form id="search">
      <select id="service" title="service (query.service_name)"><option value="">all services</option></select>
      <select id="operation" title="span name (query.operation_name)"><option value="">all operations</option></select>
      <select id="lookback" title="start time window">
        <option value="900">last 15 min</option><option value="3600" selected>last hour</option>
        <option value="21600">last 6 hours</option><option value="86400">last day</option>
      </select>
      <select id="limit" title="newest traces to fetch (query.search_depth)"><option>20</option><option selected>100</option><option>500</option></select>
      <label title="refresh as spans arrive"><input id="live-toggle" type="checkbox" checked> live</label>
      <input id="q" type="search" autocomplete="off" placeholder="filter: words (trace id, service, root span) and key=value attributes">
    </form>
    <div id="list-status" class="status"></div>
    <div class="scroll">
      <table id="traces">
        <colgroup><col class="c-start"><col class="c-svc"><col><col class="c-num"><col class="c-dur"><col class="c-num"></colgroup>
        <thead><tr><th>start</th><th>service</th><th>root span</th><th class="num">spans</th><th class="num">duration</th><th class="num">errors</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
  <section id="trace-pane">
    <div id="trace-empty">Pick a trace from the list.</div>
    <div id="trace" hidden>
      <div id="trace-head"></div>
      <div id="waterfall"></div>
    </div>
    <div id="span-detail" hidden></div>
  </section>
</main>
`;

/** The whole page. Built once per server: the embedded functions' source does not change. */
export function viewerHtml(): string {
  const functions = VIEWER_FUNCTIONS.map((f) => f.toString()).join('\n\n');
  return (
    '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n<link rel="icon" href="data:,">\n<title>k8s-trace-sim traces</title>\n' +
    `<style>${STYLE}</style>\n</head>\n<body>${BODY}<script>\n${functions}\n${SCRIPT}</script>\n</body>\n</html>\n`
  );
}
