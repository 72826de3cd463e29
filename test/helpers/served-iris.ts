import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startLocalBroker, type LocalBroker } from '../../scripts/broker/index.js';
import { startRuntime, type RuntimeProcess } from './runtime-process.js';
import { repoRoot } from './fixtures.js';
import { IRIS_PACKAGE, installIrisPackage } from './iris.js';
import { appendStage, tempDir } from './packages.js';

/** The plugin module that provides `mlstream.test.SlowStage` (pass it in MLSTREAM_PLUGINS). */
export const SLOW_STAGE_PLUGIN = join(repoRoot, 'test/helpers/slow-stage-plugin.ts');

export interface IrisModels {
  readonly modelsDir: string;
  cleanup(): void;
}

/**
 * A models folder holding the real PySpark iris NaiveBayes export as package `iris`;
 * with `slowStageMs`, a SlowStage waiting that long per slice is appended to its pipeline.
 */
export function irisModels(opts: { slowStageMs?: number } = {}): IrisModels {
  const work = tempDir('mlstream-delivery-');
  const modelsDir = join(work, 'models');
  installIrisPackage(modelsDir);
  if (opts.slowStageMs !== undefined) appendSlowStage(join(modelsDir, IRIS_PACKAGE), opts.slowStageMs);
  return { modelsDir, cleanup: () => rmSync(work, { recursive: true, force: true }) };
}

function appendSlowStage(packageDir: string, delayMs: number): void {
  appendStage(packageDir, 'mlstream.test.SlowStage', 'SlowStage_5e1f0c0ffee0', { delayMs });
}

/** The environment for `mlstream serve` on the iris package against a local broker. */
export function irisRuntimeEnv(bootstrap: string, modelsDir: string, groupId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { KAFKA_BOOTSTRAP_SERVER: bootstrap, MODELS_DIR: modelsDir, MODEL_PIPELINE: IRIS_PACKAGE, KAFKA_GROUP_ID: groupId, ...extra };
}

export interface IrisRig {
  readonly broker: LocalBroker;
  /** One broker's address, for the test's own clients. */
  readonly boot: string;
  start(env?: Record<string, string>): RuntimeProcess;
}

export interface IrisRigOptions {
  /** Brokers in the local cluster (3 for leader moves). */
  readonly brokers?: number;
  /** Appends a SlowStage taking this long per slice to the iris package. */
  readonly slowStageMs?: number;
  /** Environment every runtime of the rig starts with (a runtime's own `env` wins). */
  readonly env?: Record<string, string>;
}

/**
 * A fresh local broker (topics: messages ×3, predictions ×3, errors), the iris package,
 * and runtime processes in consumer group `group`; the test's end stops all of them.
 */
export async function irisRig(t: TestContext, group: string, options: IrisRigOptions = {}): Promise<IrisRig> {
  const broker = await startLocalBroker({
    brokers: options.brokers ?? 1,
    topics: [{ name: 'messages', partitions: 3 }, { name: 'predictions', partitions: 3 }, { name: 'errors' }],
  });
  const models = irisModels(options.slowStageMs === undefined ? {} : { slowStageMs: options.slowStageMs });
  const started: RuntimeProcess[] = [];
  t.after(async () => {
    for (const r of started) await r.stop();
    await broker.stop();
    models.cleanup();
  });
  const plugin: Record<string, string> = options.slowStageMs === undefined ? {} : { MLSTREAM_PLUGINS: SLOW_STAGE_PLUGIN };
  return {
    broker,
    boot: broker.brokers[0]!,
    start(env = {}) {
      const r = startRuntime(irisRuntimeEnv(broker.bootstrap, models.modelsDir, group, { ...plugin, ...options.env, ...env }));
      started.push(r);
      return r;
    },
  };
}
