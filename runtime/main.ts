import type { Server } from 'node:http';
import type { Config } from './config.js';
import { processSlice, type BatchResult } from './engine/batch.js';
import { ServingCounts } from './engine/counts.js';
import { planFor } from './engine/plan.js';
import { WorkerPool } from './engine/pool.js';
import { Router } from './engine/routing.js';
import { refusedOutputRecord } from './engine/error-record.js';
import { dashboardRoutes } from './http/dashboard.js';
import { LiveFeed } from './http/live.js';
import type { RuntimeMetrics } from './http/metrics.js';
import { boundPort, startHttp } from './http/server.js';
import { healthRoute, modelRoutes, readyRoute, statusRoute, type ServingState } from './http/status.js';
import { createRunnerClient } from './kafka/client.js';
import { StreamRunner, type RunnerHooks } from './kafka/runner.js';
import { createLogger, type Logger } from './log.js';
import type { ModelVersion } from './packages/package.js';
import { ModelStore } from './packages/store.js';
import { PostgresSink } from './sinks/postgres.js';
import { builtinRegistry } from './stages/index.js';
import { loadPlugins } from './pipeline/plugins.js';
import { textLoopAddon, useTextLoop } from './native/text-loop.js';

/** How long the first slices wait for the packages found at start to load (main.ts, below). */
const START_LOADS_WAIT_MS = 5000;

/**
 * The composition root: the only place Kafka, packages, the pipeline and HTTP meet.
 * Resolves when the runtime has stopped; the exit code says how. `probeKafka` (the command
 * line's quick reachability check) runs once the plugins are loaded.
 */
export async function serve(config: Config, probeKafka: () => Promise<void> = async () => undefined): Promise<number> {
  const log = createLogger(config.logLevel);
  // Before any package loads: fused text stages pick their token loop when they are made.
  useTextLoop(config.textLoop);
  const registry = builtinRegistry({ remoteAllowedHosts: config.remoteAllowedHosts });
  try {
    const added = await loadPlugins(config.plugins, registry);
    if (added.length) log.info({ plugins: config.plugins, classes: added }, 'plugins loaded');
  } catch (e) {
    log.fatal({ reason: (e as Error).message }, 'plugin refused');
    return 2;
  }
  await probeKafka();
  // After the probe, so a broker that is not there is still the one line `serve` prints.
  log.info({ textLoop: config.textLoop, ...(config.textLoop === 'native' ? { native: textLoopAddon().why } : {}) }, 'text token loop');
  const store = new ModelStore(config.modelsDir, registry, log, { selected: config.modelPipeline, loadTimeoutMs: config.packageLoadTimeoutMs });
  // Each version's serving plan is built once, when it loads, not on the record path.
  store.on('loaded', (model: ModelVersion) => void planFor(model));
  // Packages load in the background: a slow one delays neither the consumer nor HTTP.
  await store.start({ wait: false });
  reportDefaultPackage(store, config, log);

  const hooks: RunnerHooks<BatchResult> = { refusedOutput: (original, reason) => refusedOutputRecord({ value: original.value ?? null, headers: original.headers }, reason) };
  let sink: PostgresSink | undefined;
  if (config.pgSinkUrl) {
    try {
      const opened = await PostgresSink.open(config.pgSinkUrl, config.pgSinkTable, log, config.partitionsConsumedConcurrently + 1, {
        timeoutMs: config.pgSinkTimeoutMs,
        onDeadline: config.pgSinkOnDeadline,
      });
      hooks.beforeCommit = async (result, _inputs, deadlineAt, what) => void (await opened.write(result.records, deadlineAt, what));
      sink = opened;
    } catch (e) {
      log.fatal({ reason: (e as Error).message, table: config.pgSinkTable }, 'postgres sink cannot start');
      await store.close();
      return 1;
    }
  }
  const counts = new ServingCounts();
  // prom-client is loaded only with the HTTP server that serves /metrics: tens of ms of start-up otherwise.
  const metrics: RuntimeMetrics | undefined = config.httpPort !== undefined ? new (await import('./http/metrics.js')).RuntimeMetrics(store) : undefined;
  const live =
    config.httpPort !== undefined
      ? new LiveFeed(store, { maxClients: config.httpMaxSseClients, onClientRefused: (refused, open) => log.warn({ refused, open, max: config.httpMaxSseClients }, 'event streams refused: too many open (429)') })
      : undefined;
  hooks.afterCommit = (result, inputs, elapsedMs, highWatermark) => {
    counts.observe(result.stats);
    metrics?.observeSlice(result, inputs, elapsedMs, highWatermark);
    live?.observeSlice(result, inputs);
  };

  // Decoding, validation, the stages and output encoding run on worker threads; Kafka stays here.
  const pool = new WorkerPool({ size: config.workers, mainShare: config.mainShare, textLoop: config.textLoop, plugins: config.plugins, remoteAllowedHosts: config.remoteAllowedHosts, wantRecords: sink !== undefined || config.httpPort !== undefined, log });
  metrics?.watchPool(pool.runs);
  const syncPool = (): void => pool.sync(store.loaded());
  store.on('changed', syncPool);
  syncPool();
  if (pool.size > 0) log.info({ workers: pool.size, partitionsConcurrently: config.partitionsConsumedConcurrently }, 'worker pool started');

  const limits = { maxMessageBytes: config.maxMessageBytes, errorRawMaxBytes: config.errorRawMaxBytes, errorRecordMaxBytes: config.errorRecordMaxBytes };
  const sliceOptions = { limits, noModelPolicy: config.noModelPolicy, errorsTopic: config.errorsTopic, ...(pool.size > 0 ? { runPlan: pool.run.bind(pool) } : {}) };
  let router: Router | undefined;
  // The packages found at start load while the consumer joins its group. The first slices wait
  // for those loads (a few seconds at most) instead of pausing their partitions, which costs a
  // whole fetch wait to come back from (KAFKA_MAX_WAIT_MS, 1 s by default) or, with
  // NO_MODEL_POLICY=error, would turn records into NO_MODEL errors while their package is loading.
  let startLoads: Promise<unknown> | undefined = Promise.race([store.idle(), new Promise((r) => setTimeout(r, START_LOADS_WAIT_MS).unref())]);
  const runner = new StreamRunner(
    await createRunnerClient(config, log),
    config,
    async (messages) => {
      if (startLoads) {
        await startLoads;
        startLoads = undefined;
      }
      const snapshot = store.snapshot();
      try {
        if (router?.generation !== snapshot.generation) {
          router = new Router(snapshot, { defaultInputTopic: config.inputTopic, predictionsTopic: config.predictionsTopic, errorsTopic: config.errorsTopic, bindings: store.bindings() });
        }
        return await processSlice(messages, router, sliceOptions);
      } finally {
        snapshot.release();
      }
    },
    log,
    hooks,
  );
  // A package loaded between a slice's routing and its pause must not leave the partition paused.
  hooks.onWait = (waiting) => {
    if (waiting.generation !== store.generation) setImmediate(() => runner.resumeWaiting());
  };
  store.on('changed', () => {
    runner.resumeWaiting();
    runner.setTopics(store.boundTopics()).catch((e: Error) => log.error({ reason: e.message }, 'cannot subscribe to the topics packages are bound to'));
  });
  await runner.setTopics(store.boundTopics());

  const state: ServingState = { store, runner, counts, config };
  let http: Server | undefined;
  if (config.httpPort !== undefined && metrics && live) {
    try {
      http = await startHttp(
        config.httpPort,
        {
          ...dashboardRoutes(),
          '/events': live.route(),
          '/metrics': metrics.route(),
          '/healthz': healthRoute(state),
          '/readyz': readyRoute(state),
          '/status': statusRoute(state),
          ...modelRoutes(state),
        },
        {
          host: config.httpHost,
          allowedHosts: config.httpAllowedHosts,
          token: config.httpToken,
          onRouteError: (path, e) => log.error({ path, err: e }, 'http route failed'),
        },
      );
    } catch (e) {
      // The command line says it in one line (a busy port names the flag to change it).
      await sink?.close();
      live.close();
      metrics.close();
      await pool.close();
      await store.close();
      throw e;
    }
    log.info({ port: boundPort(http), host: config.httpHost }, 'http listening');
  }

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (code: number, reason: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      log.info({ reason }, 'stopping');
      sink?.stopRetrying();
      try {
        await runner.stop();
      } catch (e) {
        log.error({ err: e }, 'error while stopping');
        code = code || 1;
      }
      await sink?.close();
      live?.close();
      metrics?.close();
      await pool.close();
      await store.close();
      http?.close();
      log.info({ code }, 'stopped');
      resolve(code);
    };
    process.once('SIGTERM', () => void stop(0, 'SIGTERM'));
    process.once('SIGINT', () => void stop(0, 'SIGINT'));
    runner
      .start((e) => {
        log.fatal({ err: e }, 'consumer crashed and will not restart');
        void stop(1, 'consumer crash');
      })
      .catch((e: Error) => {
        log.fatal({ err: e }, 'cannot start consuming');
        void stop(1, 'start failed');
      });
  });
}

/**
 * A MODEL_PIPELINE that names no folder is said loudly, with the packages that exist: its
 * records wait in Kafka (they are not drained to errors) until such a folder appears.
 */
function reportDefaultPackage(store: ModelStore, config: Config, log: Logger): void {
  const folders = store.folderNames();
  if (config.modelPipeline !== undefined && !folders.includes(config.modelPipeline)) {
    log.error(
      { modelPipeline: config.modelPipeline, modelsDir: config.modelsDir, packages: folders },
      `MODEL_PIPELINE="${config.modelPipeline}" names no package folder in ${config.modelsDir} (packages there: ${folders.join(', ') || 'none'}); ` +
        (config.noModelPolicy === 'wait'
          ? 'records without a mlstream-model header wait in Kafka until that folder appears'
          : 'records without a mlstream-model header go to errors as NO_MODEL (NO_MODEL_POLICY=error)'),
    );
  } else if (folders.length === 0) {
    log.warn({ modelsDir: config.modelsDir }, `no model package in ${config.modelsDir} yet; records wait in Kafka until one is dropped in`);
  } else {
    log.info({ packages: folders, default: store.defaultName() ?? null }, 'model packages found; loading them in the background');
  }
}
