import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BatchResult } from '../engine/batch.js';
import type { InputMessage } from '../engine/messages.js';
import { ErrorCodes } from '../errors.js';
import type { ModelVersion } from '../packages/package.js';
import type { ModelStore, Refusal } from '../packages/store.js';
import type { Route } from './server.js';

const POOL_THREADS = ['workers', 'main', 'shared'] as const;
type PoolThread = (typeof POOL_THREADS)[number];

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_SIZE_BUCKETS = [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000];

/**
 * The runtime's Prometheus metrics, in a registry of its own (not prom-client's global
 * one), so several runtimes can live in one test process. Fed once per committed slice
 * and by the model store's events; nothing here runs per message except arithmetic.
 */
export class RuntimeMetrics {
  readonly registry = new Registry();
  private readonly recordsIn: Counter<'topic'>;
  private readonly recordsOut: Counter<'topic' | 'outcome'>;
  private readonly errors: Counter<'code'>;
  private readonly versionRecords: Counter<'model' | 'version' | 'role' | 'outcome'>;
  private readonly batchSize: Histogram;
  private readonly batchDuration: Histogram;
  private readonly pipelineDuration: Histogram<'model'>;
  private readonly stageDuration: Histogram<'model' | 'stage' | 'class'>;
  private readonly endToEnd: Histogram;
  private readonly lag: Gauge<'topic' | 'partition'>;
  private readonly loads: Counter<'model'>;
  private readonly reloads: Counter<'model'>;
  private readonly refusals: Counter<'model'>;
  private readonly seenModels = new Set<string>();
  /** The worker pool's share counters, once `watchPool` is given them (read at scrape time). */
  private poolRuns: Readonly<Record<PoolThread, number>> | undefined;
  private readonly stageClasses = new Map<string, ReadonlyMap<string, string>>();
  private readonly onLoaded = (m: ModelVersion): void => this.countLoad(m);
  private readonly onRefused = (r: Refusal): void => this.refusals.inc({ model: r.name });

  constructor(private readonly store: ModelStore) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.recordsIn = new Counter({ name: 'mlstream_records_in_total', help: 'Input records processed and committed, by input topic', labelNames: ['topic'], registers });
    this.recordsOut = new Counter({
      name: 'mlstream_records_out_total',
      help: 'Output messages acknowledged, by output topic and outcome (prediction | error)',
      labelNames: ['topic', 'outcome'],
      registers,
    });
    this.errors = new Counter({ name: 'mlstream_errors_total', help: 'Error records written, by error code', labelNames: ['code'], registers });
    for (const code of Object.values(ErrorCodes)) this.errors.inc({ code }, 0);
    this.versionRecords = new Counter({
      name: 'mlstream_model_records_total',
      help: 'Records served per package version and role (primary | canary | shadow | pinned by header), by outcome (prediction | error)',
      labelNames: ['model', 'version', 'role', 'outcome'],
      registers,
    });
    this.batchSize = new Histogram({ name: 'mlstream_batch_size', help: 'Records per processed slice', buckets: BATCH_SIZE_BUCKETS, registers });
    this.batchDuration = new Histogram({
      name: 'mlstream_batch_duration_seconds',
      help: 'One slice from decode to committed offsets (pipeline, produce, sink, commit)',
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.pipelineDuration = new Histogram({ name: 'mlstream_pipeline_duration_seconds', help: 'All stages of a package on one slice', labelNames: ['model'], buckets: DURATION_BUCKETS, registers });
    this.stageDuration = new Histogram({
      name: 'mlstream_stage_duration_seconds',
      help: 'One stage on one slice, by model, stage uid and class',
      labelNames: ['model', 'stage', 'class'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.endToEnd = new Histogram({
      name: 'mlstream_end_to_end_latency_seconds',
      help: "From the input record's Kafka timestamp to its output being committed",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.lag = new Gauge({ name: 'mlstream_consumer_lag', help: 'Records behind the partition end, as of the last committed slice', labelNames: ['topic', 'partition'], registers });
    this.loads = new Counter({ name: 'mlstream_model_loads_total', help: 'Package versions loaded (first loads and reloads)', labelNames: ['model'], registers });
    this.reloads = new Counter({ name: 'mlstream_model_reloads_total', help: 'New versions of an already loaded package swapped in', labelNames: ['model'], registers });
    this.refusals = new Counter({ name: 'mlstream_model_refusals_total', help: 'Package versions refused (the previous version keeps serving)', labelNames: ['model'], registers });
    new Gauge({
      name: 'mlstream_model_loaded',
      help: 'Loaded package versions (1), by role (primary | canary | shadow | none); serving="true" marks each package\'s primary version',
      labelNames: ['model', 'version', 'serving', 'role'],
      registers,
      collect() {
        this.reset();
        for (const p of store.packages()) {
          for (const v of p.versions.keys()) {
            const role = p.roles.primary === v ? 'primary' : p.roles.canary?.version === v ? 'canary' : p.roles.shadow?.version === v ? 'shadow' : 'none';
            this.set({ model: p.name, version: v, serving: String(role === 'primary'), role }, 1);
          }
        }
      },
    });

    const runsOf = (): Readonly<Record<PoolThread, number>> | undefined => this.poolRuns;
    const reported: Record<PoolThread, number> = { workers: 0, main: 0, shared: 0 };
    new Counter({
      name: 'mlstream_pool_shares_total',
      help: 'Package versions\' shares of slices run, by thread: workers (the pool), main (no worker could, or the version is cheap), shared (the main thread while the workers were busy: work sharing)',
      labelNames: ['thread'],
      registers,
      collect() {
        const runs = runsOf();
        for (const thread of POOL_THREADS) {
          // A counter only goes up: add what the pool counted since the last scrape.
          const delta = Math.max(0, (runs?.[thread] ?? 0) - reported[thread]);
          this.inc({ thread }, delta);
          reported[thread] += delta;
        }
      },
    });

    // The store may have loaded packages before the metrics existed; those count as loads.
    for (const m of store.loaded()) this.countLoad(m);
    for (const r of store.allRefusals()) this.onRefused(r);
    store.on('loaded', this.onLoaded);
    store.on('refused', this.onRefused);
  }

  /** Exposes the worker pool's share counters (`WorkerPool.runs`) as mlstream_pool_shares_total. */
  watchPool(runs: Readonly<Record<PoolThread, number>>): void {
    this.poolRuns = runs;
  }

  /** The runner's afterCommit hook. */
  observeSlice(result: BatchResult, inputs: readonly InputMessage[], elapsedMs: number, highWatermark: string): void {
    if (inputs.length === 0) return;
    const { stats } = result;
    const first = inputs[0]!;
    this.recordsIn.inc({ topic: first.topic }, inputs.length);
    for (const [outcome, outputs] of [['prediction', result.predictions], ['error', result.errors], ['shadow', result.shadow]] as const) {
      for (const [topic, n] of countByTopic(outputs)) this.recordsOut.inc({ topic, outcome }, n);
    }
    for (const [code, n] of Object.entries(stats.errorsByCode)) this.errors.inc({ code }, n);
    this.batchSize.observe(inputs.length);
    this.batchDuration.observe(elapsedMs / 1000);
    for (const v of stats.versions.values()) {
      const tag = `${v.name}@${v.version}`;
      if (v.predictions) this.versionRecords.inc({ model: v.name, version: v.version, role: v.role, outcome: 'prediction' }, v.predictions);
      if (v.errors) this.versionRecords.inc({ model: v.name, version: v.version, role: v.role, outcome: 'error' }, v.errors);
      if (v.records === v.errors) continue;
      this.pipelineDuration.observe({ model: tag }, v.pipelineMs / 1000);
      const classes = this.classesOf(tag);
      for (const [uid, ms] of v.stageMs) this.stageDuration.observe({ model: tag, stage: uid, class: classes.get(uid) ?? 'unknown' }, ms / 1000);
    }
    const now = Date.now();
    for (const m of inputs) {
      if (m.timestamp) this.endToEnd.observe(Math.max(0, now - Number(m.timestamp)) / 1000);
    }
    const next = BigInt(inputs[inputs.length - 1]!.offset) + 1n;
    const lag = BigInt(highWatermark) - next;
    this.lag.set({ topic: first.topic, partition: String(first.partition) }, Number(lag > 0n ? lag : 0n));
  }

  route(): Route {
    return async (_req, res) => {
      const body = await this.registry.metrics();
      res.writeHead(200, { 'content-type': this.registry.contentType }).end(body);
    };
  }

  close(): void {
    this.store.off('loaded', this.onLoaded);
    this.store.off('refused', this.onRefused);
    this.registry.clear();
  }

  private countLoad(m: ModelVersion): void {
    this.loads.inc({ model: m.name });
    if (this.seenModels.has(m.name)) this.reloads.inc({ model: m.name });
    this.seenModels.add(m.name);
  }

  /** Stage uid → class name of a `name@version`, looked up once per version. */
  private classesOf(tag: string): ReadonlyMap<string, string> {
    let classes = this.stageClasses.get(tag);
    if (!classes) {
      const model = this.store.loaded().find((m) => `${m.name}@${m.version}` === tag);
      if (!model) return new Map();
      classes = new Map([...model.pipeline.active, ...model.pipeline.executed].map((s) => [s.uid, s.className]));
      this.stageClasses.set(tag, classes);
    }
    return classes;
  }
}

function countByTopic(outputs: readonly { readonly topic: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of outputs) counts.set(m.topic, (counts.get(m.topic) ?? 0) + 1);
  return counts;
}
