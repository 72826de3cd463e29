import type { Server } from 'node:http';
import type { Config } from './config.js';
import { processBatch, type BatchResult } from './engine/batch.js';
import { refusedOutputRecord } from './engine/error-record.js';
import { dashboardRoutes } from './http/dashboard.js';
import { LiveFeed } from './http/live.js';
import { RuntimeMetrics } from './http/metrics.js';
import { boundPort, startHttp } from './http/server.js';
import { healthRoute, statusRoute } from './http/status.js';
import { createKafka } from './kafka/client.js';
import { StreamRunner, type RunnerHooks } from './kafka/runner.js';
import { createLogger } from './log.js';
import { ModelStore } from './packages/store.js';
import { PostgresSink } from './sinks/postgres.js';
import { builtinRegistry } from './stages/index.js';
import { loadPlugins } from './pipeline/plugins.js';

/**
 * The composition root: the only place Kafka, packages, the pipeline and HTTP meet.
 * Resolves when the runtime has stopped; the exit code says how.
 */
export async function serve(config: Config): Promise<number> {
  const log = createLogger(config.logLevel);
  const registry = builtinRegistry({ remoteAllowedHosts: config.remoteAllowedHosts });
  try {
    const added = await loadPlugins(config.plugins, registry);
    if (added.length) log.info({ plugins: config.plugins, classes: added }, 'plugins loaded');
  } catch (e) {
    log.fatal({ reason: (e as Error).message }, 'plugin refused');
    return 2;
  }
  const store = new ModelStore(config.modelsDir, registry, log, { selected: config.modelPipeline });
  await store.start();

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
  const metrics = config.httpPort !== undefined ? new RuntimeMetrics(store, config) : undefined;
  const live =
    config.httpPort !== undefined
      ? new LiveFeed(store, { maxClients: config.httpMaxSseClients, onClientRefused: (refused, open) => log.warn({ refused, open, max: config.httpMaxSseClients }, 'event streams refused: too many open (429)') })
      : undefined;
  if (metrics && live) {
    hooks.afterCommit = (result, inputs, elapsedMs, highWatermark) => {
      metrics.observeSlice(result, inputs, elapsedMs, highWatermark);
      live.observeSlice(result, inputs);
    };
  }

  const limits = { maxMessageBytes: config.maxMessageBytes, errorRawMaxBytes: config.errorRawMaxBytes, errorRecordMaxBytes: config.errorRecordMaxBytes };
  const runner = new StreamRunner(
    createKafka(config, log),
    config,
    async (messages) => {
      const lease = store.acquire();
      try {
        return await processBatch(messages, lease?.model, limits);
      } finally {
        lease?.release();
      }
    },
    log,
    hooks,
  );

  let healthy = false;
  let http: Server | undefined;
  if (config.httpPort !== undefined && metrics && live) {
    http = await startHttp(config.httpPort, {
      ...dashboardRoutes(),
      '/events': live.route(),
      '/metrics': metrics.route(),
      '/healthz': healthRoute(() => healthy),
      '/status': statusRoute(store),
    }, {
      host: config.httpHost,
      allowedHosts: config.httpAllowedHosts,
      token: config.httpToken,
      onRouteError: (path, e) => log.error({ path, err: e }, 'http route failed'),
    });
    log.info({ port: boundPort(http), host: config.httpHost }, 'http listening');
  }

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (code: number, reason: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      healthy = false;
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
      .then(() => {
        healthy = true;
      })
      .catch((e: Error) => {
        log.fatal({ err: e }, 'cannot start consuming');
        void stop(1, 'start failed');
      });
  });
}
