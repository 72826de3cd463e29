import { Counter, Gauge, Registry } from 'prom-client';
import { sendJson, type Route } from '../http/server.js';
import type { WindowSummary } from './prequential.js';
import type { Trainer } from './trainer.js';

/**
 * The trainer's HTTP routes (served by the runtime's HTTP server on `--http-port`):
 * `/healthz`, `/status` (JSON: counts, versions, prequential window), `/metrics`
 * (Prometheus text) and `/` — the learning curve, drawn on the server as an SVG so the
 * page needs no script and refreshes itself every few seconds.
 */

const METRIC_OF: Record<string, { key: keyof WindowSummary; help: string }> = {
  accuracy: { key: 'accuracy', help: 'prequential accuracy over the window' },
  log_loss: { key: 'logLoss', help: 'prequential log loss over the window' },
  rmse: { key: 'rmse', help: 'prequential RMSE over the window' },
  cost: { key: 'cost', help: 'prequential mean squared distance to the closest centre over the window' },
};

export function trainerRoutes(trainer: Trainer): Record<string, Route> {
  const registry = new Registry();
  const labels = { model: trainer.options.name };
  const records = new Counter({ name: 'mlstream_train_records_total', help: 'records consumed by the trainer', labelNames: ['model'], registers: [registry] });
  const trained = new Counter({ name: 'mlstream_train_learned_total', help: 'records learned', labelNames: ['model'], registers: [registry] });
  const errors = new Counter({ name: 'mlstream_train_errors_total', help: 'records that could not be learned, by code', labelNames: ['model', 'code'], registers: [registry] });
  const versions = new Gauge({ name: 'mlstream_train_version', help: 'the last version written', labelNames: ['model'], registers: [registry] });
  const prequential = new Gauge({ name: 'mlstream_train_prequential', help: 'prequential evaluation over the sliding window', labelNames: ['model', 'metric'], registers: [registry] });
  const holdout = new Gauge({ name: 'mlstream_train_holdout', help: 'the current model on the held-out records (--holdout-topic)', labelNames: ['model', 'metric'], registers: [registry] });
  const seen = { records: 0, trained: 0, errors: {} as Record<string, number> };

  // Counters only go up: each scrape adds what happened since the last one.
  const refresh = (): void => {
    const st = trainer.status();
    records.inc(labels, st.records - seen.records);
    trained.inc(labels, st.trained - seen.trained);
    for (const [code, n] of Object.entries(st.errors)) errors.inc({ ...labels, code }, n - (seen.errors[code] ?? 0));
    Object.assign(seen, { records: st.records, trained: st.trained, errors: { ...st.errors } });
    if (st.lastVersion !== undefined) versions.set(labels, st.lastVersion);
    for (const [metric, { key }] of Object.entries(METRIC_OF)) {
      const v = st.prequential[key];
      if (typeof v === 'number') prequential.set({ ...labels, metric }, v);
      const h = st.holdout?.[key];
      if (typeof h === 'number') holdout.set({ ...labels, metric }, h);
    }
  };

  return {
    '/healthz': (_req, res) => sendJson(res, 200, { ok: true }),
    '/status': (_req, res) => sendJson(res, 200, { name: trainer.options.name, algorithm: trainer.options.algorithm, ...trainer.status() }),
    '/metrics': async (_req, res) => {
      refresh();
      res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
    },
    '/': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" });
      res.end(curvePage(trainer));
    },
  };
}

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function curvePage(trainer: Trainer): string {
  const { name, algorithm } = trainer.options;
  const st = trainer.status();
  const key: keyof WindowSummary = algorithm === 'logistic-sgd' ? 'accuracy' : algorithm === 'linear-sgd' ? 'rmse' : 'cost';
  const points = trainer.prequential.curve.filter((p) => typeof p[key] === 'number');
  const W = 720;
  const H = 300;
  let svg = '<p>No micro-batch learned yet.</p>';
  if (points.length > 0) {
    const xs = points.map((p) => p.records);
    const ys = points.map((p) => p[key] as number);
    const [x0, x1] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)];
    const [y0, y1] = key === 'accuracy' ? [0, 1] : [0, Math.max(...ys) || 1];
    const px = (x: number): number => 40 + ((x - x0) / (x1 - x0)) * (W - 60);
    const py = (y: number): number => H - 30 - ((y - y0) / (y1 - y0)) * (H - 50);
    const line = points.map((p, i) => `${px(xs[i]!).toFixed(1)},${py(ys[i]!).toFixed(1)}`).join(' ');
    const held = points.filter((p) => typeof p.holdout?.[key] === 'number').map((p) => `${px(p.records).toFixed(1)},${py(p.holdout![key] as number).toFixed(1)}`).join(' ');
    svg =
      `<svg width="${W}" height="${H}" role="img" aria-label="learning curve: ${key} by records">` +
      `<line x1="40" y1="${H - 30}" x2="${W - 20}" y2="${H - 30}" stroke="#888"/><line x1="40" y1="20" x2="40" y2="${H - 30}" stroke="#888"/>` +
      `<text x="44" y="16" font-size="12">${key} ${y1.toPrecision(3)}</text><text x="44" y="${H - 34}" font-size="12">${y0}</text>` +
      `<text x="${W - 20}" y="${H - 10}" font-size="12" text-anchor="end">${x1} records</text>` +
      `<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${line}"/>` +
      (held ? `<polyline fill="none" stroke="#d62728" stroke-width="2" stroke-dasharray="4 3" points="${held}"/>` : '') +
      '</svg>';
  }
  const figures = Object.entries({ ...st.prequential, ...Object.fromEntries(Object.entries(st.holdout ?? {}).map(([k, v]) => [`holdout ${k}`, v])) })
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(4)) : ''}</td></tr>`)
    .join('');
  return (
    `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">` +
    `<title>mlstream train — ${escapeHtml(name)}</title><style>body{font-family:sans-serif;margin:2em}th{text-align:left;padding-right:1em}</style></head><body>` +
    `<h1>Learning curve: ${escapeHtml(name)} (${algorithm})</h1>` +
    `<p>Prequential ${key} over the last ${trainer.prequential.size} records, after each micro-batch (solid)` +
    `${trainer.options.holdoutTopic ? `; the model on the held-out records of ${escapeHtml(trainer.options.holdoutTopic)} (dashed)` : ''}. Last version: ${st.lastVersion ?? 'none yet'}.</p>` +
    `${svg}<table>${figures}</table></body></html>`
  );
}
