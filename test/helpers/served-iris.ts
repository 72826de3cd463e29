import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './fixtures.js';
import { IRIS_PACKAGE, installIrisPackage } from './iris.js';
import { tempDir } from './packages.js';

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
  const metaFile = join(packageDir, 'metadata', 'part-00000');
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { paramMap: { stageUids: string[] } };
  const uid = 'SlowStage_5e1f0c0ffee0';
  const stageMeta = join(packageDir, 'stages', `${meta.paramMap.stageUids.length}_${uid}`, 'metadata');
  mkdirSync(stageMeta, { recursive: true });
  writeFileSync(
    join(stageMeta, 'part-00000'),
    JSON.stringify({ class: 'mlstream.test.SlowStage', timestamp: 0, sparkVersion: '3.3.0', uid, paramMap: { delayMs }, defaultParamMap: {} }),
  );
  meta.paramMap.stageUids.push(uid);
  writeFileSync(metaFile, JSON.stringify(meta));
}

/** The environment for `mlstream serve` on the iris package against a local broker. */
export function irisRuntimeEnv(bootstrap: string, modelsDir: string, groupId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { KAFKA_BOOTSTRAP_SERVER: bootstrap, MODELS_DIR: modelsDir, MODEL_PIPELINE: IRIS_PACKAGE, KAFKA_GROUP_ID: groupId, ...extra };
}
