import { ErrorCodes } from '../errors.js';
import type { ModelVersion } from '../packages/package.js';
import { errorOutput, failure } from './failures.js';
import type { BatchStats, ErrorBody, InputMessage, OutputMessage, PredictionRecord, ServingRole, VersionStats } from './messages.js';
import { planFor, type BatchLimits, type OutputTopics, type PlanRun, type ServingPlan } from './plan.js';
import type { RecordRouter, Route } from './routing.js';

export type { BatchLimits } from './plan.js';

/** What a record whose package is not loaded does: wait in Kafka (default) or become a NO_MODEL error. */
export type NoModelPolicy = 'wait' | 'error';

export interface SliceOptions {
  readonly limits: BatchLimits;
  readonly noModelPolicy: NoModelPolicy;
  /** Where errors go that belong to no package (NO_MODEL, a failure of the engine itself). */
  readonly errorsTopic: string;
  /** Runs one version's share of the slice (the worker pool); default: the plan's own run, on this thread. */
  readonly runPlan?: RunPlan;
}

export type RunPlan = (plan: ServingPlan, messages: readonly InputMessage[], positions: readonly number[], topics: OutputTopics, limits: BatchLimits) => Promise<PlanRun>;

export interface BatchResult {
  readonly predictions: OutputMessage[];
  readonly errors: OutputMessage[];
  /** Outputs of shadow versions: never on the predictions topic. */
  readonly shadow: OutputMessage[];
  /** The predictions again, as data, in the same order. */
  readonly records: PredictionRecord[];
  readonly stats: BatchStats;
  /** How many of the slice's messages, from its start, have outputs; the rest wait. */
  readonly processed: number;
  /** Why the message at `processed` waits (its package is not loaded). */
  readonly wait?: { readonly reason: string; readonly model: string; readonly generation: number };
}

interface Group {
  readonly plan: ServingPlan;
  readonly role: ServingRole;
  readonly topics: OutputTopics;
  readonly messages: InputMessage[];
  readonly positions: number[];
}

/**
 * One slice, from raw Kafka messages to the messages to write: every input up to
 * `processed` yields exactly one output (a prediction or an error; shadow copies
 * aside). Records are routed to package versions and each version's share runs as one
 * batch through its plan. Nothing thrown here reaches the caller: a throw becomes
 * PIPELINE_ERROR records for the records it concerns. Knows nothing of Kafka clients.
 */
export async function processSlice(messages: readonly InputMessage[], router: RecordRouter, options: SliceOptions): Promise<BatchResult> {
  try {
    return await routeAndRun(messages, router, options);
  } catch (e) {
    // The last guard: a failure outside any plan (a bug in routing itself) fails the whole slice.
    const error = failure(e, 'the engine failed on this slice');
    const errors = messages.map((m, i) => errorOutput(m, i, options.errorsTopic, undefined, error, '', options.limits));
    return result(messages.length, [], [], errors, { [error.code]: errors.length }, new Map(), messages.length);
  }
}

async function routeAndRun(messages: readonly InputMessage[], router: RecordRouter, options: SliceOptions): Promise<BatchResult> {
  // Keyed by the route itself: the router hands out one object per version and role.
  const groups = new Map<Route, Group>();
  const shadows = new Map<ServingPlan, Group>();
  const errors: OutputMessage[] = [];
  const errorsByCode: Record<string, number> = {};
  const add = (into: Map<unknown, Group>, key: unknown, plan: ServingPlan, role: ServingRole, topics: OutputTopics, m: InputMessage, i: number): void => {
    let g = into.get(key);
    if (!g) into.set(key, (g = { plan, role, topics, messages: [], positions: [] }));
    g.messages.push(m);
    g.positions.push(i);
  };
  let processed = messages.length;
  let wait: BatchResult['wait'];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const route = router.route(m);
    if (route.kind === 'wait') {
      if (options.noModelPolicy === 'wait') {
        processed = i;
        wait = { reason: route.reason, model: route.model, generation: router.generation };
        break;
      }
      const error: ErrorBody = { code: ErrorCodes.NO_MODEL, message: route.reason };
      errorsByCode[error.code] = (errorsByCode[error.code] ?? 0) + 1;
      errors.push(errorOutput(m, i, options.errorsTopic, undefined, error, route.model, options.limits));
      continue;
    }
    add(groups as Map<unknown, Group>, route, route.plan, route.role, route.topics, m, i);
    if (route.shadow) add(shadows as Map<unknown, Group>, route.shadow.plan, route.shadow.plan, 'shadow', route.shadow.topics, m, i);
  }

  const predictions: OutputMessage[] = [];
  const shadow: OutputMessage[] = [];
  const records: PredictionRecord[] = [];
  const versions = new Map<string, VersionStats>();
  // Every version's share at once: on the worker pool they run in parallel; outputs are put back in input order below.
  const jobs = [...[...groups.values()].map((g) => [g, false] as const), ...[...shadows.values()].map((g) => [g, true] as const)];
  const runs = await Promise.all(jobs.map(([g]) => runGuarded(g, options)));
  jobs.forEach(([g, isShadow], j) => {
    const run = runs[j]!;
    if (isShadow) shadow.push(...run.predictions, ...run.errors);
    else {
      predictions.push(...run.predictions);
      errors.push(...run.errors);
      records.push(...run.records);
      for (const [code, n] of Object.entries(run.errorsByCode)) errorsByCode[code] = (errorsByCode[code] ?? 0) + n;
    }
    versions.set(`${g.plan.tag}${isShadow ? ' shadow' : ''}`, {
      name: g.plan.model.name,
      version: g.plan.model.version,
      role: g.role,
      records: g.messages.length,
      predictions: run.predictions.length,
      errors: run.errors.length,
      pipelineMs: run.pipelineMs,
      stageMs: run.stageMs,
    });
  });
  if (groups.size > 1) {
    byPosition(predictions);
    byPosition(errors);
  }
  return { ...result(processed, predictions, records, errors, errorsByCode, versions, processed, shadow), ...(wait ? { wait } : {}) };
}

/** A plan's run, with anything it throws turned into error records for its own records. */
async function runGuarded(g: Group, { limits, runPlan }: SliceOptions): Promise<PlanRun> {
  try {
    return await (runPlan ? runPlan(g.plan, g.messages, g.positions, g.topics, limits) : g.plan.run(g.messages, g.positions, g.topics, limits));
  } catch (e) {
    const error = failure(e, 'serving this batch failed');
    return {
      predictions: [],
      errors: g.messages.map((m, k) => errorOutput(m, g.positions[k]!, g.topics.errors, undefined, error, g.plan.tag, limits)),
      records: [],
      errorsByCode: { [error.code]: g.messages.length },
      pipelineMs: 0,
      stageMs: new Map(),
    };
  }
}

function byPosition(outputs: OutputMessage[]): void {
  outputs.sort((a, b) => a.position - b.position);
}

function result(
  inputs: number,
  predictions: OutputMessage[],
  records: PredictionRecord[],
  errors: OutputMessage[],
  errorsByCode: Record<string, number>,
  versions: Map<string, VersionStats>,
  processed: number,
  shadow: OutputMessage[] = [],
): BatchResult {
  let pipelineMs = 0;
  const stageMs = new Map<string, number>();
  let model: string | undefined;
  for (const [tag, v] of versions) {
    if (v.role === 'shadow') continue;
    pipelineMs += v.pipelineMs;
    for (const [uid, ms] of v.stageMs) stageMs.set(uid, (stageMs.get(uid) ?? 0) + ms);
    model = model === undefined ? tag : model;
  }
  const single = [...versions.values()].filter((v) => v.role !== 'shadow').length === 1;
  return {
    predictions,
    errors,
    shadow,
    records,
    processed,
    stats: { inputs, predictions: predictions.length, errorsByCode, pipelineMs, stageMs, versions, ...(single && model ? { model } : {}) },
  };
}

/**
 * One batch through one version, every record to the runtime's default topics: what tools
 * and tests that hold a loaded version (and no router) use. Without a version, every
 * record is a NO_MODEL error. `wantRecords: false` leaves out the prediction records, as
 * `serve` does without a sink or the dashboard (plan.ts).
 */
export async function processBatch(
  messages: readonly InputMessage[],
  model: ModelVersion | undefined,
  limits: BatchLimits,
  topics: OutputTopics = { predictions: 'predictions', errors: 'errors' },
  { wantRecords = true }: { readonly wantRecords?: boolean } = {},
): Promise<BatchResult> {
  const route: Route = model ? { kind: 'serve', plan: planFor(model), role: 'primary', topics } : { kind: 'wait', reason: 'no model package is loaded', model: '' };
  const router: RecordRouter = { generation: 0, route: () => route };
  const runPlan: RunPlan = (plan, m, positions, t, l) => plan.run(m, positions, t, l, wantRecords);
  return processSlice(messages, router, { limits, noModelPolicy: 'error', errorsTopic: topics.errors, runPlan });
}
