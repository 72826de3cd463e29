import type { ServerResponse } from 'node:http';
import type { Config } from '../config.js';
import type { ServingCounts } from '../engine/counts.js';
import type { StreamRunner } from '../kafka/runner.js';
import type { ModelVersion } from '../packages/package.js';
import type { ModelStore, PackageView } from '../packages/store.js';
import { sendJson, type Route } from './server.js';

/** What the status routes read: the store, the runner's waits and progress, per-version counts. */
export interface ServingState {
  readonly store: ModelStore;
  readonly runner: Pick<StreamRunner, 'isRunning' | 'failed' | 'oldestSliceMs' | 'waitingPartitions'>;
  readonly counts: ServingCounts;
  readonly config: Pick<Config, 'healthStallMs' | 'inputTopic' | 'predictionsTopic' | 'errorsTopic' | 'modelPipeline' | 'noModelPolicy'>;
}

/**
 * Liveness: fails only when the process should be restarted — the runner gave up, or a
 * slice has been in hand longer than HEALTH_STALL_MS (a stuck sink or broker). A
 * partition waiting for a package is not a failure.
 */
export function healthRoute(state: ServingState): Route {
  return (_req, res) => {
    const stalledMs = state.runner.oldestSliceMs();
    const stalled = stalledMs > state.config.healthStallMs;
    const ok = !state.runner.failed && !stalled;
    sendJson(res, ok ? 200 : 503, { ok, ...(stalled ? { reason: `a slice has been in hand for ${stalledMs} ms (HEALTH_STALL_MS=${state.config.healthStallMs})` } : {}) });
  };
}

/** Readiness: the consumer runs, every package folder has a loaded version, and no partition waits. */
export function readyRoute(state: ServingState): Route {
  return (_req, res) => {
    const reasons = notReady(state);
    sendJson(res, reasons.length === 0 ? 200 : 503, { ready: reasons.length === 0, reasons });
  };
}

export function notReady({ store, runner }: ServingState): string[] {
  const reasons: string[] = [];
  if (!runner.isRunning) reasons.push('the consumer is not running');
  const loaded = new Set(store.packages().map((p) => p.name));
  const def = store.defaultName();
  if (def !== undefined && !loaded.has(def)) reasons.push(`the default package "${def}" is not loaded`);
  for (const name of store.folderNames()) {
    if (loaded.has(name)) continue;
    reasons.push(store.isLoading(name) ? `package "${name}" is loading` : `package "${name}" has no loaded version`);
  }
  for (const w of runner.waitingPartitions()) reasons.push(`${w.topic}/${w.partition} waits at offset ${w.offset}: ${w.reason}`);
  return reasons;
}

/** Every package with its versions, roles and counts; the partitions that wait and why; refusals. */
export function statusRoute(state: ServingState): Route {
  return (_req, res) => {
    const { store, runner, counts, config } = state;
    const serving = store.current();
    const packages = new Map(store.packages().map((p) => [p.name, p]));
    const reasons = notReady(state);
    sendJson(res, 200, {
      ready: reasons.length === 0,
      notReady: reasons,
      serving: serving ? { name: serving.name, version: serving.version } : null,
      default: store.defaultName() ?? null,
      noModelPolicy: config.noModelPolicy,
      models: store.folderNames().map((name) => packageStatus(name, packages.get(name), state, counts)),
      waiting: runner.waitingPartitions(),
      refusals: store.allRefusals(),
      lastRefusal: store.refusal() ?? null,
      counts: store.counts,
    });
  };
}

function packageStatus(name: string, pkg: PackageView | undefined, { store, config }: ServingState, counts: ServingCounts): Record<string, unknown> {
  const bound = pkg?.settings.input_topic ?? [...store.bindings()].find(([, n]) => n === name)?.[0];
  const roleOf = (version: string): string | null =>
    pkg?.roles.primary === version ? 'primary' : pkg?.roles.canary?.version === version ? 'canary' : pkg?.roles.shadow?.version === version ? 'shadow' : null;
  return {
    name,
    loading: store.isLoading(name),
    layout: pkg?.layout ?? null,
    inputTopic: bound ?? config.inputTopic,
    outputTopics: { predictions: pkg?.settings.output_topics?.predictions ?? config.predictionsTopic, errors: pkg?.settings.output_topics?.errors ?? config.errorsTopic },
    primary: pkg?.roles.primary ?? null,
    canary: pkg?.roles.canary ?? null,
    shadow: pkg?.roles.shadow ?? null,
    problems: pkg?.roles.problems ?? [],
    versions: [...(pkg?.versions.values() ?? [])].map((m) => ({
      version: m.version,
      role: roleOf(m.version),
      loadedAt: m.loadedAt,
      stages: m.pipeline.active.map((s) => s.className),
    })),
    counts: counts.of(name),
  };
}

/**
 * KServe's v2 names for model metadata and readiness: `/v2/models/<name>`,
 * `/v2/models/<name>/ready`, and both under `/versions/<version>`.
 */
export function modelRoutes(state: ServingState): Record<string, Route> {
  return {
    '/v2/models/*': (req, res) => {
      const path = (req.url ?? '').split('?')[0]!;
      const m = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready)?$/.exec(path);
      if (!m) return sendJson(res, 404, { error: 'not found' });
      const name = decodeURIComponent(m[1]!);
      const pkg = state.store.packages().find((p) => p.name === name);
      const known = pkg !== undefined || state.store.folderNames().includes(name);
      if (!known) return sendJson(res, 404, { error: `no model package "${name}"` });
      const version = m[2] === undefined ? pkg?.roles.primary : decodeURIComponent(m[2]);
      const model = version === undefined ? undefined : pkg?.versions.get(version);
      if (m[3]) return sendJson(res, model ? 200 : 503, { name, ...(version !== undefined ? { version } : {}), ready: model !== undefined });
      if (!model) return notLoaded(res, name, version);
      sendJson(res, 200, metadata(model, pkg!));
    },
  };
}

function notLoaded(res: ServerResponse, name: string, version: string | undefined): void {
  sendJson(res, version === undefined ? 503 : 404, { error: version === undefined ? `package "${name}" has no loaded version` : `version ${version} of "${name}" is not loaded` });
}

const KSERVE_TYPES: Record<string, string> = {
  STRING: 'BYTES',
  INTEGER: 'INT32',
  LONG: 'INT64',
  FLOAT: 'FP32',
  DOUBLE: 'FP64',
  BOOLEAN: 'BOOL',
  'ARRAY<STRING>': 'BYTES',
  VECTOR: 'FP64',
};

function metadata(model: ModelVersion, pkg: PackageView): Record<string, unknown> {
  return {
    name: model.name,
    versions: [...pkg.versions.keys()],
    version: model.version,
    platform: 'mlstream',
    inputs: model.fields.map((f) => ({
      name: f.name,
      datatype: KSERVE_TYPES[f.type] ?? 'BYTES',
      shape: f.type === 'ARRAY<STRING>' || f.type === 'VECTOR' ? [-1, -1] : [-1],
      ...(f.nullable ? { nullable: true } : {}),
    })),
    outputs: [{ name: 'prediction', datatype: model.labels.size > 0 ? 'BYTES' : 'FP64', shape: [-1] }],
    labels: Object.fromEntries(model.labels),
    stages: model.pipeline.active.map((s) => ({ uid: s.uid, class: s.className })),
    loadedAt: model.loadedAt,
  };
}
