import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ParamReader, type SparkMetadata } from '../../../runtime/packages/spark-format.js';
import { loadSparkObject } from '../../../runtime/packages/spark-loader.js';
import { Frame, sparseFromPairs, type Vector } from '../../../runtime/pipeline/frame.js';
import { buildFrame, parseInputSchema } from '../../../runtime/pipeline/input-schema.js';
import { Pipeline } from '../../../runtime/pipeline/pipeline.js';
import { StageRegistry } from '../../../runtime/pipeline/registry.js';
import type { Stage, StageContext, StageFactory } from '../../../runtime/pipeline/stage.js';
import { registerSparkStages } from '../../../runtime/stages/spark/index.js';
import { fixture, readSparkCsv } from '../../helpers/fixtures.js';

/** Shared by the model-stage tests: hand-made saved models and quick access to fixture stages. */

export interface SavedModel {
  readonly class: string;
  readonly sparkVersion?: string;
  readonly params?: Record<string, unknown>;
  readonly extra?: Record<string, unknown>;
  /** Parquet rows by sub-folder (`data`, `treesMetadata`). */
  readonly data: Record<string, Record<string, unknown>[]>;
}

export function contextOf(model: SavedModel): StageContext {
  const metadata: SparkMetadata = {
    class: model.class,
    uid: 'test_model',
    sparkVersion: model.sparkVersion ?? '3.5.1',
    paramMap: model.params ?? {},
    defaultParamMap: {},
    ...model.extra,
  };
  return {
    dir: '/nonexistent',
    metadata,
    params: new ParamReader(metadata, 'test metadata'),
    readData: async (sub = 'data') => model.data[sub] ?? [],
    loadNested: async () => {
      throw new Error('no nested objects in tests');
    },
  };
}

export async function build(factories: Record<string, StageFactory>, model: SavedModel): Promise<Stage> {
  const factory = factories[model.class];
  if (!factory) throw new Error(`no factory for ${model.class}`);
  return factory(contextOf(model));
}

/** VectorUDT structs as hyparquet returns them. */
export const dense = (values: number[]) => ({ type: 1, size: null, indices: null, values });
export const sparse = (size: number, indices: number[], values: number[]) => ({ type: 0, size, indices, values });

/** A dense MatrixUDT struct from row-major values, stored column-major unless `transposed`. */
export function denseMatrix(numRows: number, numCols: number, rowMajor: number[], transposed = false) {
  const values = transposed
    ? rowMajor
    : Array.from({ length: numRows * numCols }, (_, k) => rowMajor[(k % numRows) * numCols + Math.floor(k / numRows)]!);
  return { type: 1, numRows, numCols, colPtrs: null, rowIndices: null, values, isTransposed: transposed };
}

/** A sparse MatrixUDT struct from row-major values: CSR when `transposed`, else CSC. */
export function sparseMatrix(numRows: number, numCols: number, rowMajor: number[], transposed: boolean) {
  const colPtrs = [0];
  const rowIndices: number[] = [];
  const values: number[] = [];
  const [outer, inner] = transposed ? [numRows, numCols] : [numCols, numRows];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const v = transposed ? rowMajor[o * numCols + i]! : rowMajor[i * numCols + o]!;
      if (v !== 0) {
        rowIndices.push(i);
        values.push(v);
      }
    }
    colPtrs.push(values.length);
  }
  return { type: 0, numRows, numCols, colPtrs, rowIndices, values, isTransposed: transposed };
}

export function vec(values: number[]): Float64Array {
  return Float64Array.from(values);
}

export function sv(size: number, indices: number[], values: number[]): Vector {
  return sparseFromPairs(size, indices, values);
}

export function frameWith(col: string, vectors: (Vector | null)[], size = -1): Frame {
  const frame = Frame.ofLength(vectors.length);
  frame.set(col, { type: 'vector', size, values: vectors });
  return frame;
}

export async function run(stage: Stage, frame: Frame): Promise<Frame> {
  await stage.transform(frame);
  frame.compact();
  return frame;
}

export function doubles(frame: Frame, col: string): number[] {
  return [...frame.getTyped(col, 'double').values];
}

export function vectors(frame: Frame, col: string): Float64Array[] {
  return frame.getTyped(col, 'vector').values as Float64Array[];
}

const registry = new StageRegistry();
registerSparkStages(registry);

/** The folder of stage `<prefix>…` of a fixture pipeline (resolved by listing: fixtures are known). */
export function fixtureStageDir(name: string, prefix: string): string {
  const stages = join(fixture(name), 'stages');
  const dir = readdirSync(stages).find((d) => d.startsWith(prefix));
  if (!dir) throw new Error(`${name} has no stage ${prefix}*`);
  return join(stages, dir);
}

/** Loads a saved single stage (or a single saved model) from a folder. */
export async function loadStage(dir: string): Promise<Stage> {
  const stages = await loadSparkObject(dir, registry);
  if (stages.length !== 1) throw new Error(`${dir} holds ${stages.length} stages`);
  return stages[0]!;
}

/**
 * Runs a whole fixture pipeline on the rows of one of its sample CSVs, the columns typed by
 * `schema` (an input_schema as a package declares it).
 */
export async function runFixturePipeline(name: string, csv: string, schema: Record<string, string>): Promise<{ frame: Frame; pipeline: Pipeline }> {
  const fields = parseInputSchema(schema);
  const input = readSparkCsv(join(fixture(name), 'sample', csv));
  const records = input.rows.map((r) =>
    Object.fromEntries(fields.map((f) => [f.name, f.type === 'STRING' ? r[input.header.indexOf(f.name)] : Number(r[input.header.indexOf(f.name)])])),
  );
  const pipeline = new Pipeline(await loadSparkObject(fixture(name), registry), fields.map((f) => f.name));
  return { frame: await pipeline.run(buildFrame(records, fields)), pipeline };
}

/** One column of a fixture's sample CSV. */
export function sampleColumn(name: string, csv: string, column: string): string[] {
  const { header, rows } = readSparkCsv(join(fixture(name), 'sample', csv));
  return rows.map((r) => r[header.indexOf(column)]!);
}

/** A deterministic pseudo-random generator for test vectors. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A random sparse vector with about `nnz` non-negative entries. */
export function randomSparse(size: number, nnz: number, next: () => number): Vector {
  const idx = new Set<number>();
  while (idx.size < Math.min(nnz, size)) idx.add(Math.floor(next() * size));
  const indices = [...idx];
  return sparseFromPairs(size, indices, indices.map(() => 0.1 + next() * 3));
}
