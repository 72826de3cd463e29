/**
 * Writes PipelineModel packages in Spark's on-disk layout (scripts/examples/spark-writer.ts
 * writes each stage) and serves records through them the way the runtime does: loadPackage,
 * the input-schema validator, frames, readPredictions. For stage tests that need a whole
 * pipeline: ML attributes only exist between stages.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadPackage, type ModelVersion, type PackageConfig } from '../../../runtime/packages/package.js';
import { stageDirName } from '../../../runtime/packages/spark-format.js';
import { type DataColumn, type SparkJson, writeData, writeMetadata } from '../../../scripts/examples/spark-writer.js';
import { predict, sparkRegistry } from '../../conformance/runner.js';
import type { Outcome } from '../../conformance/types.js';
import { tempDir } from '../../helpers/packages.js';

export interface SavedStage {
  /** Class name; `feature.X` is short for org.apache.spark.ml.feature.X. */
  readonly class: string;
  readonly params: { [key: string]: SparkJson };
  readonly data?: readonly DataColumn[];
  /** The Spark version the metadata names (default: spark-writer.ts's). */
  readonly sparkVersion?: string;
  /** Writes whatever else the stage's folder holds (a nested saved object). */
  readonly extra?: (stageDir: string) => Promise<void>;
}

const fullName = (cls: string): string => (cls.startsWith('org.') ? cls : `org.apache.spark.ml.${cls}`);

export async function writeStage(dir: string, stage: SavedStage, uid: string): Promise<void> {
  await writeMetadata(dir, { class: fullName(stage.class), uid, paramMap: stage.params, defaultParamMap: {} });
  if (stage.sparkVersion) {
    const file = join(dir, 'metadata', 'part-00000');
    const meta = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, `${JSON.stringify({ ...meta, sparkVersion: stage.sparkVersion })}\n`);
  }
  if (stage.data) await writeData(dir, stage.data);
  await stage.extra?.(dir);
}

/** A PipelineModel folder holding `stages`, uids `<Class>_<index>`. */
export async function writePipeline(dir: string, stages: readonly SavedStage[], uid = 'PipelineModel_test'): Promise<void> {
  const uids = stages.map((s, i) => `${s.class.slice(s.class.lastIndexOf('.') + 1)}_${i}`);
  await writeMetadata(dir, { class: 'org.apache.spark.ml.PipelineModel', uid, paramMap: { stageUids: uids }, defaultParamMap: {} });
  for (const [i, stage] of stages.entries()) await writeStage(join(dir, 'stages', stageDirName(i, stages.length, uids[i]!)), stage, uids[i]!);
}

async function withPackage<T>(stages: readonly SavedStage[], config: PackageConfig, use: (dir: string) => Promise<T>): Promise<T> {
  const dir = tempDir('mlstream-saved-');
  try {
    await mkdir(dir, { recursive: true });
    await writePipeline(dir, stages);
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    return await use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Serves `records` through the package: one outcome per record (a prediction body or a rejection). */
export function serve(stages: readonly SavedStage[], config: PackageConfig, records: readonly Record<string, unknown>[]): Promise<Outcome[]> {
  return withPackage(stages, config, async (dir) => {
    const model = await loadPackage(dir, sparkRegistry());
    try {
      return await predict(model, records);
    } finally {
      await model.pipeline.dispose();
    }
  });
}

/** The message loadPackage refuses the package with (the test fails if it loads). */
export function refusal(stages: readonly SavedStage[], config: PackageConfig): Promise<string> {
  return withPackage(stages, config, async (dir) => {
    try {
      const model = await loadPackage(dir, sparkRegistry());
      await model.pipeline.dispose();
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('the package loaded; a refusal was expected');
  });
}

/** StringIndexerModel's data as Spark 3.x saves it: `labelsArray`, one label list per input column. */
export function labelsArrayColumn(labels: string[][]): DataColumn {
  return {
    name: 'labelsArray',
    data: [labels],
    schema: [
      { name: 'labelsArray', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST', logical_type: { type: 'LIST' } },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST', logical_type: { type: 'LIST' } },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    ],
    sparkType: { type: 'array', elementType: { type: 'array', elementType: 'string', containsNull: true }, containsNull: true },
    nullable: true,
  };
}

/** An array<int> parquet column (OneHotEncoderModel's `categorySizes`). */
export function intArrayColumn(name: string, values: number[][]): DataColumn {
  return {
    name,
    data: values,
    schema: [
      { name, repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST', logical_type: { type: 'LIST' } },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'INT32', repetition_type: 'REQUIRED' },
    ],
    sparkType: { type: 'array', elementType: 'integer', containsNull: false },
    nullable: true,
  };
}

/** Loads the package and hands the loaded version to `use` (its pipeline's attributes, say). */
export function loaded<T>(stages: readonly SavedStage[], config: PackageConfig, use: (model: ModelVersion) => Promise<T> | T): Promise<T> {
  return withPackage(stages, config, async (dir) => {
    const model = await loadPackage(dir, sparkRegistry());
    try {
      return await use(model);
    } finally {
      await model.pipeline.dispose();
    }
  });
}
