import type { Server } from 'node:http';
import { CliError, probeKafka } from '../cli-errors.js';
import type { Config } from '../config.js';
import { createKafka } from '../kafka/client.js';
import { startHttp } from '../http/server.js';
import { createLogger } from '../log.js';
import { PackageError } from '../packages/errors.js';
import { loadPlugins } from '../pipeline/plugins.js';
import { builtinRegistry } from '../stages/index.js';
import { startTraining } from '../train/consumer.js';
import { trainerRoutes } from '../train/http.js';
import type { TrainOptions } from '../train/options.js';
import { Trainer } from '../train/trainer.js';

/**
 * `mlstream train`: wires the trainer (feature stages, online model, checkpoint, versions)
 * to Kafka and, with --http-port, to its HTTP page. Runs until SIGTERM/SIGINT (the batch
 * in hand finishes, a last version and checkpoint are written) or, with --until-end, until
 * it has caught up with the topic. Exit codes: 0 done, 1 failed, 2 bad package or options.
 */
export async function trainCommand(options: TrainOptions, config: Config): Promise<number> {
  const log = createLogger(config.logLevel).child({ component: 'train', model: options.name });
  const registry = builtinRegistry({ remoteAllowedHosts: config.remoteAllowedHosts });
  if (config.plugins.length) await loadPlugins(config.plugins, registry);
  let trainer: Trainer;
  try {
    trainer = await Trainer.open(options, config.modelsDir, registry);
  } catch (e) {
    // A package that cannot give features or weights, or a checkpoint made with other options.
    log.error({ file: e instanceof PackageError ? e.file : undefined }, `cannot start training: ${(e as Error).message}`);
    return 2;
  }
  let server: Server | undefined;
  try {
    await probeKafka(config.brokers);
    if (config.httpPort !== undefined) {
      server = await startHttp(config.httpPort, trainerRoutes(trainer), { host: config.httpHost, allowedHosts: config.httpAllowedHosts, token: config.httpToken });
    }
    const run = await startTraining(
      createKafka(config, log),
      trainer,
      {
        topic: options.inputTopic,
        groupId: options.groupId ?? `mlstream-train-${options.name}`,
        errorsTopic: options.errorsTopic,
        batchSize: options.batchSize,
        untilEnd: options.untilEnd,
        everySeconds: options.everySeconds,
        sessionTimeoutMs: config.sessionTimeoutMs,
        maxWaitTimeInMs: config.maxWaitTimeInMs,
        holdoutTopic: options.holdoutTopic,
      },
      log,
    );
    log.info({ topic: options.inputTopic, algorithm: options.algorithm, resumedAt: trainer.status().records, httpPort: server ? (server.address() as { port: number }).port : undefined }, 'training');
    const onSignal = (): void => void run.stop();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    await run.done;
    log.info({ ...trainer.status() }, 'training stopped');
    return 0;
  } catch (e) {
    // An unreachable Kafka is reported in the command line's one error style.
    if (e instanceof CliError) throw e;
    log.error({ err: e }, 'training failed');
    return 1;
  } finally {
    server?.close();
    await trainer.close();
  }
}
