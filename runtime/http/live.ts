import type { ServerResponse } from 'node:http';
import type { BatchResult } from '../engine/batch.js';
import type { InputMessage, OutputMessage, PredictionRecord } from '../engine/messages.js';
import type { ModelVersion } from '../packages/package.js';
import type { ModelStore, Refusal } from '../packages/store.js';
import { SlidingWindow, type WindowStats } from './live-window.js';
import type { Route } from './server.js';

export interface LiveOptions {
  /** How often aggregates are pushed to the browsers. */
  readonly tickMs?: number;
  /** Ticks of history kept for a page that connects later. */
  readonly historyTicks?: number;
  /** Rows in the rolling table of latest predictions (and of recent errors). */
  readonly latestRows?: number;
  /** Ticks the charts' rates and latency are taken over. */
  readonly windowTicks?: number;
}

/** One push interval, aggregated. */
export interface LiveTick {
  readonly t: number;
  readonly inputs: number;
  readonly predictions: number;
  readonly errors: number;
  readonly errorsByCode: Record<string, number>;
  readonly labels: Record<string, number>;
  /** Rates per second and end-to-end latency over the sliding window ending with this tick: what the charts draw. */
  readonly window: WindowStats;
}

export interface LatestRow {
  readonly at: number;
  readonly id: unknown;
  readonly input: string;
  readonly prediction: unknown;
  readonly probability: number | null;
  readonly model: string;
  readonly source: string;
}

/** One error record, as the dashboard's table of recent errors shows it. */
export interface ErrorRow {
  readonly at: number;
  readonly id: unknown;
  readonly code: string;
  readonly message: string;
  readonly source: string;
}

const OTHER_LABEL = '(other)';
/** Regression models pass raw numbers through as labels; past this many a tick folds the rest. */
const MAX_LABELS_PER_TICK = 12;
/** Latency is sampled, not measured per record: at most this many records per slice. */
const LATENCY_SAMPLES_PER_SLICE = 64;
const INPUT_PREVIEW_CHARS = 240;
/** A browser that stops reading is dropped rather than buffered for. */
const MAX_CLIENT_BUFFER_BYTES = 1 << 20;

/**
 * What the dashboard shows, kept server-side in bounded buffers: per-slice results are
 * folded into the current tick, and every tick is pushed over server-sent events to the
 * open pages, so the browser sees a few messages a second whatever the record rate.
 */
export class LiveFeed {
  private readonly tickMs: number;
  private readonly historyTicks: number;
  private readonly latestRows: number;
  private readonly history: LiveTick[] = [];
  private latest: LatestRow[] = [];
  private fresh: LatestRow[] = [];
  private recentErrors: ErrorRow[] = [];
  private freshErrors: ErrorRow[] = [];
  private readonly window: SlidingWindow;
  /** Refusals still standing: a package loaded since, or deleted, is no longer refused. */
  private readonly refusals = new Map<string, Refusal>();
  private readonly unsubscribe: () => void;
  private readonly totals = { inputs: 0, predictions: 0, errors: 0, errorsByCode: {} as Record<string, number> };
  private acc = emptyAccumulator();
  private readonly clients = new Set<ServerResponse>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: ModelStore,
    options: LiveOptions = {},
  ) {
    this.tickMs = options.tickMs ?? 500;
    this.historyTicks = options.historyTicks ?? 240;
    this.latestRows = options.latestRows ?? 20;
    this.window = new SlidingWindow(this.tickMs, options.windowTicks ?? 10);
    for (const r of store.allRefusals()) this.refusals.set(r.name, r);
    const onRefused = (r: Refusal): void => void this.refusals.set(r.name, r);
    const onLoaded = (m: ModelVersion): void => void this.refusals.delete(m.name);
    const onRemoved = (name: string): void => void this.refusals.delete(name);
    store.on('refused', onRefused).on('loaded', onLoaded).on('removed', onRemoved);
    this.unsubscribe = () => store.off('refused', onRefused).off('loaded', onLoaded).off('removed', onRemoved);
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  /** The runner's afterCommit hook. */
  observeSlice(result: BatchResult, inputs: readonly InputMessage[]): void {
    const a = this.acc;
    a.inputs += inputs.length;
    a.predictions += result.predictions.length;
    a.errors += result.errors.length;
    for (const [code, n] of Object.entries(result.stats.errorsByCode)) a.errorsByCode[code] = (a.errorsByCode[code] ?? 0) + n;
    for (const r of result.records) {
      const label = r.prediction === null || r.prediction === undefined ? 'null' : String(r.prediction);
      a.labels.set(label, (a.labels.get(label) ?? 0) + 1);
    }
    const now = Date.now();
    const stride = Math.max(1, Math.ceil(inputs.length / LATENCY_SAMPLES_PER_SLICE));
    for (let i = 0; i < inputs.length; i += stride) {
      const ts = inputs[i]!.timestamp;
      if (ts) a.latencies.push(Math.max(0, now - Number(ts)));
    }
    const tail = result.records.slice(-this.latestRows);
    for (const r of tail) this.fresh.push(toRow(r, now));
    if (this.fresh.length > this.latestRows) this.fresh = this.fresh.slice(-this.latestRows);
    // Only the rows the table can show are parsed back from their JSON.
    for (const e of result.errors.slice(-this.latestRows)) this.freshErrors.push(toErrorRow(e, now));
    if (this.freshErrors.length > this.latestRows) this.freshErrors = this.freshErrors.slice(-this.latestRows);
  }

  /** GET /events: a snapshot first (history, totals, latest rows), then one message per tick. */
  route(): Route {
    return (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(`retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(this.snapshot())}\n\n`);
      this.clients.add(res);
      req.on('close', () => this.clients.delete(res));
    };
  }

  /** Ends every open event stream, so the HTTP server can close. */
  close(): void {
    clearInterval(this.timer);
    this.unsubscribe();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private snapshot(): Record<string, unknown> {
    return { tickMs: this.tickMs, totals: this.totals, history: this.history, latest: this.latest, errors: this.recentErrors, models: this.models() };
  }

  private tick(): void {
    const a = this.acc;
    this.acc = emptyAccumulator();
    const labels = foldLabels(a.labels);
    const tick: LiveTick = {
      t: Date.now(),
      inputs: a.inputs,
      predictions: a.predictions,
      errors: a.errors,
      errorsByCode: a.errorsByCode,
      labels,
      window: this.window.push({ inputs: a.inputs, predictions: a.predictions, errors: a.errors, labels, errorsByCode: a.errorsByCode, latencies: a.latencies }),
    };
    this.totals.inputs += a.inputs;
    this.totals.predictions += a.predictions;
    this.totals.errors += a.errors;
    for (const [code, n] of Object.entries(a.errorsByCode)) this.totals.errorsByCode[code] = (this.totals.errorsByCode[code] ?? 0) + n;
    this.history.push(tick);
    if (this.history.length > this.historyTicks) this.history.splice(0, this.history.length - this.historyTicks);
    const fresh = this.fresh;
    this.fresh = [];
    if (fresh.length) this.latest = [...this.latest, ...fresh].slice(-this.latestRows);
    const freshErrors = this.freshErrors;
    this.freshErrors = [];
    if (freshErrors.length) this.recentErrors = [...this.recentErrors, ...freshErrors].slice(-this.latestRows);
    if (this.clients.size === 0) return;
    const data = `event: tick\ndata: ${JSON.stringify({ tick, totals: this.totals, fresh, freshErrors, models: this.models() })}\n\n`;
    for (const res of this.clients) {
      if (res.writableLength > MAX_CLIENT_BUFFER_BYTES) {
        this.clients.delete(res);
        res.destroy();
      } else {
        res.write(data);
      }
    }
  }

  private models(): Record<string, unknown> {
    const serving = this.store.current();
    return {
      loaded: this.store.loaded().map((m) => ({ name: m.name, version: m.version, loadedAt: m.loadedAt, stages: m.pipeline.active.length, serving: m === serving })),
      refusals: [...this.refusals.values()].map((r) => ({ name: r.name, reason: r.reason, at: r.at })),
    };
  }
}

function emptyAccumulator(): { inputs: number; predictions: number; errors: number; errorsByCode: Record<string, number>; labels: Map<string, number>; latencies: number[] } {
  return { inputs: 0, predictions: 0, errors: 0, errorsByCode: {}, labels: new Map(), latencies: [] };
}

function foldLabels(labels: Map<string, number>): Record<string, number> {
  const sorted = [...labels].sort((x, y) => y[1] - x[1]);
  const out: Record<string, number> = {};
  sorted.slice(0, MAX_LABELS_PER_TICK).forEach(([label, n]) => (out[label] = n));
  const rest = sorted.slice(MAX_LABELS_PER_TICK).reduce((s, [, n]) => s + n, 0);
  if (rest > 0) out[OTHER_LABEL] = (out[OTHER_LABEL] ?? 0) + rest;
  return out;
}

function toRow(r: PredictionRecord, now: number): LatestRow {
  const input = JSON.stringify(r.input);
  const probs = r.probability ? Object.values(r.probability) : [];
  return {
    at: now,
    id: r.id,
    input: input.length > INPUT_PREVIEW_CHARS ? `${input.slice(0, INPUT_PREVIEW_CHARS)}…` : input,
    prediction: r.prediction,
    probability: probs.length ? Math.max(...probs) : null,
    model: `${r.model}@${r.version}`,
    source: `${r.source.topic}/${r.source.partition}/${r.source.offset}`,
  };
}

function toErrorRow(m: OutputMessage, now: number): ErrorRow {
  const body = JSON.parse(m.value) as { id: unknown; error: { code: string; message: string }; source: { topic: string; partition: number; offset: string } };
  return { at: now, id: body.id, code: body.error.code, message: body.error.message, source: `${body.source.topic}/${body.source.partition}/${body.source.offset}` };
}
