// The live dashboard: one EventSource on /events; the server aggregates, this page only draws.
import { PALETTE, drawTimeSeries, formatNumber, renderLegend } from './charts.js';

const HISTORY_TICKS = 240;
const LATEST_ROWS = 20;
const MAX_LABEL_SERIES = 8;
const CODE_COLORS = { DECODE_ERROR: '#f06a6a', SCHEMA_VIOLATION: '#f0b429', PIPELINE_ERROR: '#c78bf0', ROW_SKIPPED: '#9aa5b1', NO_MODEL: '#f08c46', REMOTE_ERROR: '#e87fb1', MESSAGE_TOO_LARGE: '#46c5c5' };

const state = { tickMs: 500, history: [], totals: null, latest: [], errors: [], models: null, freshKeys: new Set() };
const $ = (id) => document.getElementById(id);

let renderQueued = false;
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

function connect() {
  const events = new EventSource('/events');
  events.onopen = () => setConnection(true);
  events.onerror = () => setConnection(false);
  events.addEventListener('snapshot', (e) => {
    const d = JSON.parse(e.data);
    state.tickMs = d.tickMs;
    state.history = d.history;
    state.totals = d.totals;
    state.latest = d.latest;
    state.errors = d.errors;
    state.models = d.models;
    state.freshKeys = new Set();
    scheduleRender();
  });
  events.addEventListener('tick', (e) => {
    const d = JSON.parse(e.data);
    state.history.push(d.tick);
    if (state.history.length > HISTORY_TICKS) state.history.splice(0, state.history.length - HISTORY_TICKS);
    state.totals = d.totals;
    state.models = d.models;
    state.freshKeys = new Set(d.fresh.map(rowKey));
    if (d.fresh.length) state.latest = [...state.latest, ...d.fresh].slice(-LATEST_ROWS);
    if (d.freshErrors.length) state.errors = [...state.errors, ...d.freshErrors].slice(-LATEST_ROWS);
    scheduleRender();
  });
}

function setConnection(up) {
  const el = $('connection');
  el.classList.toggle('up', up);
  el.querySelector('.text').textContent = up ? 'live' : 'disconnected, retrying…';
}

function render() {
  renderCards();
  renderCharts();
  renderModels();
  renderLatest();
  renderErrors();
}

function recent(ticks) {
  return state.history.slice(-ticks);
}

function renderCards() {
  const t = state.totals;
  if (!t) return;
  $('total-in').textContent = t.inputs.toLocaleString('en');
  $('total-predictions').textContent = t.predictions.toLocaleString('en');
  $('total-errors').textContent = t.errors.toLocaleString('en');
  const now = state.history.at(-1)?.window;
  $('rate').textContent = now ? `${formatNumber(now.inputs)}/s` : '–';
  const last10s = recent(Math.round(10000 / state.tickMs));
  const inputs = last10s.reduce((s, k) => s + k.inputs, 0);
  const errors = last10s.reduce((s, k) => s + k.errors, 0);
  $('error-rate').textContent = inputs ? `${((100 * errors) / inputs).toFixed(1)}%` : '–';
  $('latency').textContent = now?.latencyMs ? `${formatNumber(now.latencyMs.p95)} ms` : '–';
}

function renderCharts() {
  const h = state.history;
  const times = h.map((k) => k.t);
  const throughput = [
    { name: 'in', color: PALETTE[0], values: h.map((k) => k.window.inputs) },
    { name: 'predictions', color: PALETTE[1], values: h.map((k) => k.window.predictions) },
    { name: 'errors', color: PALETTE[4], values: h.map((k) => k.window.errors) },
  ];
  drawTimeSeries($('chart-throughput'), { times, series: throughput });
  renderLegend($('legend-throughput'), throughput.map((s) => ({ ...s, figure: `${formatNumber(s.values.at(-1) ?? 0)}/s` })));

  const latency = [
    { name: 'p50', color: PALETTE[0], values: h.map((k) => (k.window.latencyMs ? k.window.latencyMs.p50 : null)) },
    { name: 'p95', color: PALETTE[2], values: h.map((k) => (k.window.latencyMs ? k.window.latencyMs.p95 : null)) },
  ];
  drawTimeSeries($('chart-latency'), { times, series: latency });
  renderLegend($('legend-latency'), latency.map((s) => ({ ...s, figure: `${formatNumber(s.values.filter((v) => v !== null).at(-1) ?? 0)} ms` })));

  const labelTotals = sumKeys(h.map((k) => k.labels));
  // The most frequent labels, then in name order, so a label keeps its colour as counts shift.
  const labels = [...labelTotals.keys()].sort((a, b) => labelTotals.get(b) - labelTotals.get(a)).slice(0, MAX_LABEL_SERIES).sort();
  const labelSeries = labels.map((label, i) => ({ name: label, color: PALETTE[i % PALETTE.length], values: h.map((k) => k.window.labels[label] ?? 0) }));
  drawTimeSeries($('chart-labels'), { times, series: labelSeries, stacked: true });
  renderLegend($('legend-labels'), labelSeries.map((s) => ({ ...s, figure: labelTotals.get(s.name).toLocaleString('en') })));

  const codeTotals = sumKeys(h.map((k) => k.errorsByCode));
  const codes = [...codeTotals.keys()].sort();
  const errorSeries = codes.map((code, i) => ({ name: code, color: CODE_COLORS[code] ?? PALETTE[(i + 3) % PALETTE.length], values: h.map((k) => k.window.errorsByCode[code] ?? 0) }));
  drawTimeSeries($('chart-errors'), { times, series: errorSeries });
  const allTime = state.totals?.errorsByCode ?? {};
  renderLegend(
    $('legend-errors'),
    Object.keys(allTime)
      .sort()
      .map((code) => ({ name: code, color: CODE_COLORS[code] ?? PALETTE[4], figure: allTime[code].toLocaleString('en') })),
  );
}

function sumKeys(maps) {
  const out = new Map();
  for (const m of maps) for (const [k, v] of Object.entries(m)) out.set(k, (out.get(k) ?? 0) + v);
  return out;
}

function renderModels() {
  const m = state.models;
  if (!m) return;
  const serving = m.loaded.find((x) => x.serving);
  $('serving').textContent = serving ? `serving ${serving.name}@${serving.version}` : 'no model serving';
  $('models').replaceChildren(
    ...m.loaded.map((x) => row([cell(x.name), cell(x.version, 'mono'), cell(String(x.stages)), cell(new Date(x.loadedAt).toLocaleTimeString()), cell(x.serving ? 'serving' : 'loaded')])),
  );
  $('refusals').replaceChildren(...m.refusals.map((r) => row([cell(r.name), cell(new Date(r.at).toLocaleTimeString()), cell(r.reason, 'reason')])));
}

function renderLatest() {
  const rows = [...state.latest].reverse();
  $('latest').replaceChildren(
    ...rows.map((r) => {
      const tr = row([
        cell(new Date(r.at).toLocaleTimeString()),
        cell(String(r.id)),
        cell(r.input, 'input'),
        cell(String(r.prediction), 'prediction'),
        cell(r.probability === null ? '' : r.probability.toFixed(3)),
        cell(r.source),
      ]);
      if (state.freshKeys.has(rowKey(r))) tr.className = 'fresh';
      tr.title = r.model;
      return tr;
    }),
  );
}

const rowKey = (r) => r.source;

function renderErrors() {
  $('errors').replaceChildren(
    ...[...state.errors].reverse().map((e) => row([cell(new Date(e.at).toLocaleTimeString()), cell(e.code, 'code'), cell(e.message, 'message'), cell(String(e.id)), cell(e.source)])),
  );
}

function row(cells) {
  const tr = document.createElement('tr');
  tr.append(...cells);
  return tr;
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

window.addEventListener('resize', scheduleRender);
connect();
