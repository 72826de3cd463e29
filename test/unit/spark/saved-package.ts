import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SchemaElement } from 'hyparquet';
import { loadPackage } from '../../../runtime/packages/package.js';
import { stageDirName } from '../../../runtime/packages/spark-format.js';
import { writeData, type DataColumn } from '../../../scripts/examples/spark-writer.js';
import { predict, sparkRegistry } from '../../conformance/runner.js';
import type { Outcome } from '../../conformance/types.js';
import { tempDir } from '../../helpers/packages.js';

/**
 * Writes packages in the layout Spark's MLWriter gives them (metadata/part-00000 as one
 * JSON line, data/ as parquet with Spark's schema) for classes no shared fixture holds,
 * and serves records through them the way the runtime does: loadPackage, the record
 * validator, buildFrame, the pipeline and readPredictions.
 */

export interface SavedStage {
  readonly class: string;
  readonly uid: string;
  readonly sparkVersion: string;
  readonly paramMap: Record<string, unknown>;
  readonly defaultParamMap?: Record<string, unknown>;
  /** data/ columns, one value per saved row; absent for stages with no fitted state. */
  readonly data?: readonly DataColumn[];
}

/** Spark 4 writes the metadata line through the text data source: `part-00000-<uuid>-c000.txt`. */
function writeMetadataFile(dir: string, content: Record<string, unknown> & { sparkVersion: string }): void {
  mkdirSync(join(dir, 'metadata'), { recursive: true });
  const name = /^[0-3]\./.test(content.sparkVersion) ? 'part-00000' : 'part-00000-6c8e2d1a-4f0b-4e55-9a7c-2b1d5e3f7a90-c000.txt';
  writeFileSync(join(dir, 'metadata', name), `${JSON.stringify(content)}\n`);
  writeFileSync(join(dir, 'metadata', '_SUCCESS'), '');
}

async function writeStage(dir: string, stage: SavedStage): Promise<void> {
  writeMetadataFile(dir, {
    class: stage.class,
    timestamp: 1735689600000,
    sparkVersion: stage.sparkVersion,
    uid: stage.uid,
    paramMap: stage.paramMap,
    ...(stage.defaultParamMap ? { defaultParamMap: stage.defaultParamMap } : {}),
  });
  if (stage.data) await writeData(dir, stage.data);
}

/**
 * A package folder: a PipelineModel over `stages` (or, with `root`, a single saved stage at
 * the top, as a bare `model.save(path)` writes it) plus config.json.
 */
export async function savedPackage(stages: readonly SavedStage[], inputSchema: Record<string, string>, options: { root?: boolean } = {}): Promise<string> {
  const dir = tempDir('mlstream-17b-');
  if (options.root) {
    await writeStage(dir, stages[0]!);
  } else {
    const version = stages[0]?.sparkVersion ?? '3.5.1';
    writeMetadataFile(dir, { class: 'org.apache.spark.ml.PipelineModel', timestamp: 1735689600000, sparkVersion: version, uid: 'PipelineModel_test', paramMap: { stageUids: stages.map((s) => s.uid) } });
    for (const [i, s] of stages.entries()) await writeStage(join(dir, 'stages', stageDirName(i, stages.length, s.uid)), s);
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ input_schema: inputSchema, output_labels: {} }));
  return dir;
}

/** Loads the package as the runtime does and runs the records through it, one micro-batch. */
export async function serve(dir: string, records: readonly Record<string, unknown>[]): Promise<Outcome[]> {
  const model = await loadPackage(dir, sparkRegistry());
  try {
    return await predict(model, records);
  } finally {
    await model.pipeline.dispose();
  }
}

export function removePackage(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

const list = (name: string, element: SchemaElement): SchemaElement[] => [
  { name, repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST', logical_type: { type: 'LIST' } },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { ...element, name: 'element', repetition_type: 'REQUIRED' },
];

/** An array<int> column (Scala Array[Int] in a case class: elements not nullable). */
export const intArrayColumn = (name: string, rows: number[][]): DataColumn => ({
  name,
  data: rows,
  schema: list(name, { name: 'element', type: 'INT32' }),
  sparkType: { type: 'array', elementType: 'integer', containsNull: false },
  nullable: true,
});

/** An array<double> column. */
export const doubleArrayColumn = (name: string, rows: number[][]): DataColumn => ({
  name,
  data: rows,
  schema: list(name, { name: 'element', type: 'DOUBLE' }),
  sparkType: { type: 'array', elementType: 'double', containsNull: false },
  nullable: true,
});

/** An array<string> column (StringIndexerModel's `labels` before 3.0). */
export const stringArrayColumn = (name: string, rows: string[][]): DataColumn => ({
  name,
  data: rows,
  schema: list(name, { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8' }),
  sparkType: { type: 'array', elementType: 'string', containsNull: true },
  nullable: true,
});
