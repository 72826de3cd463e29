import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SchemaElement } from 'hyparquet';
import { loadPackage, type PackageConfig } from '../../../runtime/packages/package.js';
import { writeData, type DataColumn } from '../../../scripts/examples/spark-writer.js';
import { predict, sparkRegistry } from '../../conformance/runner.js';
import type { Outcome } from '../../conformance/types.js';
import { tempDir } from '../../helpers/packages.js';

/**
 * Writes a single saved model in Spark's on-disk layout (metadata/part-00000 and parquet
 * sub-folders with Spark's column types), for classes no real export covers, and serves it
 * through loadPackage as the runtime would. Param names and data schemas follow Spark's
 * writers for each class; the tests cite which.
 */

export interface ModelLayout {
  readonly class: string;
  readonly sparkVersion?: string;
  readonly paramMap?: Record<string, unknown>;
  readonly defaultParamMap?: Record<string, unknown>;
  /** Extra top-level metadata fields some writers add (ALS `rank`, FPGrowth `numTrainingRecords`). */
  readonly extra?: Record<string, unknown>;
  /** Parquet columns by sub-folder (`data`, `userFactors`, `data/data`, ...). */
  readonly folders: Record<string, readonly DataColumn[]>;
  /** Other files by relative path (the mllib metadata a BisectingKMeansModel keeps in `data/metadata/`). */
  readonly files?: Record<string, string>;
}

export async function writeModel(dir: string, m: ModelLayout): Promise<void> {
  const uid = `${m.class.slice(m.class.lastIndexOf('.') + 1).replace(/Model$/, '')}_0123456789ab`;
  const metadata = {
    class: m.class,
    timestamp: 1735689600000,
    sparkVersion: m.sparkVersion ?? '3.5.1',
    uid,
    paramMap: m.paramMap ?? {},
    defaultParamMap: m.defaultParamMap ?? {},
    ...m.extra,
  };
  mkdirSync(join(dir, 'metadata'), { recursive: true });
  writeFileSync(join(dir, 'metadata', 'part-00000'), `${JSON.stringify(metadata)}\n`);
  for (const [folder, columns] of Object.entries(m.folders)) {
    const staging = join(dir, `.staging-${folder.replaceAll('/', '-')}`);
    await writeData(staging, columns);
    mkdirSync(dirname(join(dir, folder)), { recursive: true });
    renameSync(join(staging, 'data'), join(dir, folder));
    rmSync(staging, { recursive: true, force: true });
  }
  for (const [file, text] of Object.entries(m.files ?? {})) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
}

export interface ServedModel {
  run(records: readonly Record<string, unknown>[]): Promise<Outcome[]>;
  close(): Promise<void>;
}

/** Writes the model with its config.json into a temp folder and loads it as a package. */
export async function serveModel(m: ModelLayout, config: PackageConfig): Promise<ServedModel> {
  const dir = tempDir('mlstream-model-');
  try {
    await writeModel(dir, m);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const model = await loadPackage(dir, sparkRegistry());
    return {
      run: (records) => predict(model, records),
      async close() {
        await model.pipeline.dispose();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

const list = (name: string, element: SchemaElement): SchemaElement[] => [
  { name, repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST', logical_type: { type: 'LIST' } },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { ...element, name: 'element', repetition_type: 'REQUIRED' },
];
const arrayOf = (elementType: string): object => ({ type: 'array', elementType, containsNull: false });

export const doubleColumn = (name: string, values: number[]): DataColumn => ({
  name,
  data: values,
  schema: [{ name, type: 'DOUBLE', repetition_type: 'REQUIRED' }],
  sparkType: 'double',
  nullable: false,
});

export const doubleArrayColumn = (name: string, values: number[][]): DataColumn => ({
  name,
  data: values,
  schema: list(name, { name: 'element', type: 'DOUBLE' }),
  sparkType: arrayOf('double'),
  nullable: true,
});

export const floatArrayColumn = (name: string, values: number[][]): DataColumn => ({
  name,
  data: values,
  schema: list(name, { name: 'element', type: 'FLOAT' }),
  sparkType: arrayOf('float'),
  nullable: true,
});

export const stringArrayColumn = (name: string, values: string[][]): DataColumn => ({
  name,
  data: values,
  schema: list(name, { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } }),
  sparkType: arrayOf('string'),
  nullable: true,
});

export const intArrayColumn = (name: string, values: number[][]): DataColumn => ({
  name,
  data: values,
  schema: list(name, { name: 'element', type: 'INT32' }),
  sparkType: arrayOf('integer'),
  nullable: true,
});
