import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { javaDoubleString } from '../stages/spark/common.js';

/**
 * Writes folders in the layout Spark 3.5's MLWriter produces: `metadata/part-00000` (one
 * JSON line: class, timestamp, sparkVersion, uid, paramMap, defaultParamMap, in Spark's
 * key order and with Java's rendering of doubles) and `data/part-00000-<uuid>-c000.snappy.parquet`
 * with the Spark SQL schema in the parquet key-value metadata. Everything Spark would
 * randomise (uids, file uuids, the timestamp) is derived from fixed inputs instead, so
 * the same data gives the same bytes.
 */

export const SPARK_VERSION = '3.5.1';
/** 2025-01-01T00:00:00Z: a fixed save time keeps the files reproducible. */
export const SAVE_TIMESTAMP = 1735689600000;

/** A number Spark holds as a Double (json4s prints it the way Java's Double.toString does). */
export class JDouble {
  constructor(readonly value: number) {}
}
export const dbl = (x: number): JDouble => new JDouble(x);

export type SparkJson = string | number | boolean | null | JDouble | SparkJson[] | { [key: string]: SparkJson };

export function sparkJson(v: SparkJson): string {
  if (v instanceof JDouble) return javaDoubleString(v.value);
  if (Array.isArray(v)) return `[${v.map(sparkJson).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${sparkJson(x)}`).join(',')}}`;
  return JSON.stringify(v);
}

/** Spark 3.x uids: the estimator's name and 12 hex digits (here a hash of a fixed seed string). */
export function sparkUid(prefix: string, seed: string): string {
  return `${prefix}_${createHash('sha256').update(seed).digest('hex').slice(0, 12)}`;
}

export interface StageMetadata {
  readonly class: string;
  readonly uid: string;
  readonly paramMap: { [key: string]: SparkJson };
  readonly defaultParamMap: { [key: string]: SparkJson };
}

export async function writeMetadata(dir: string, m: StageMetadata): Promise<void> {
  const line = sparkJson({
    class: m.class,
    timestamp: SAVE_TIMESTAMP,
    sparkVersion: SPARK_VERSION,
    uid: m.uid,
    paramMap: m.paramMap,
    defaultParamMap: m.defaultParamMap,
  });
  await mkdir(join(dir, 'metadata'), { recursive: true });
  await writeFile(join(dir, 'metadata', 'part-00000'), `${line}\n`);
  await writeFile(join(dir, 'metadata', '_SUCCESS'), '');
}

/** A uuid-shaped name derived from the bytes it names. */
function contentUuid(bytes: Uint8Array): string {
  const h = createHash('sha256').update(bytes).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export interface DataColumn {
  readonly name: string;
  /** One value per row: numbers, bigints, booleans, or Vector/Matrix structs. */
  readonly data: unknown[];
  readonly schema: SchemaElement[];
  /** The column's Spark SQL type as Spark writes it in `org.apache.spark.sql.parquet.row.metadata`. */
  readonly sparkType: unknown;
  readonly nullable: boolean;
}

export async function writeData(dir: string, columns: readonly DataColumn[]): Promise<void> {
  const schema: SchemaElement[] = [{ name: 'spark_schema', num_children: columns.length }, ...columns.flatMap((c) => c.schema)];
  const rowSchema = { type: 'struct', fields: columns.map((c) => ({ name: c.name, type: c.sparkType, nullable: c.nullable, metadata: {} })) };
  const buffer = parquetWriteBuffer({
    columnData: columns.map((c) => ({ name: c.name, data: c.data as never })),
    schema,
    kvMetadata: [
      { key: 'org.apache.spark.version', value: SPARK_VERSION },
      { key: 'org.apache.spark.sql.parquet.row.metadata', value: JSON.stringify(rowSchema) },
    ],
  });
  const bytes = new Uint8Array(buffer);
  await mkdir(join(dir, 'data'), { recursive: true });
  await writeFile(join(dir, 'data', `part-00000-${contentUuid(bytes)}-c000.snappy.parquet`), bytes);
  await writeFile(join(dir, 'data', '_SUCCESS'), '');
}

const list = (name: string, element: SchemaElement): SchemaElement[] => [
  { name, repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST', logical_type: { type: 'LIST' } },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { ...element, name: 'element', repetition_type: 'REQUIRED' },
];
const BYTE: SchemaElement = { name: 'type', type: 'INT32', repetition_type: 'REQUIRED', converted_type: 'INT_8', logical_type: { type: 'INTEGER', bitWidth: 8, isSigned: true } };
const field = (name: string, type: unknown, nullable: boolean): object => ({ name, type, nullable, metadata: {} });
const arrayOf = (elementType: string): object => ({ type: 'array', elementType, containsNull: false });

export const int32Column = (name: string, values: number[]): DataColumn => ({
  name,
  data: values,
  schema: [{ name, type: 'INT32', repetition_type: 'REQUIRED' }],
  sparkType: 'integer',
  nullable: false,
});
export const int64Column = (name: string, values: bigint[]): DataColumn => ({
  name,
  data: values,
  schema: [{ name, type: 'INT64', repetition_type: 'REQUIRED' }],
  sparkType: 'long',
  nullable: false,
});
export const booleanColumn = (name: string, values: boolean[]): DataColumn => ({
  name,
  data: values,
  schema: [{ name, type: 'BOOLEAN', repetition_type: 'REQUIRED' }],
  sparkType: 'boolean',
  nullable: false,
});
export const longArrayColumn = (name: string, values: bigint[][]): DataColumn => ({
  name,
  data: values,
  schema: list(name, { name: 'element', type: 'INT64' }),
  sparkType: arrayOf('long'),
  nullable: true,
});

/** A dense ml.linalg.Vector (VectorUDT struct: type 1, no size or indices). */
export function denseVectorColumn(name: string, vectors: ArrayLike<number>[]): DataColumn {
  return {
    name,
    data: vectors.map((v) => ({ type: 1, size: null, indices: null, values: Array.from(v) })),
    schema: [
      { name, repetition_type: 'OPTIONAL', num_children: 4 },
      BYTE,
      { name: 'size', type: 'INT32', repetition_type: 'OPTIONAL' },
      ...list('indices', { name: 'element', type: 'INT32' }),
      ...list('values', { name: 'element', type: 'DOUBLE' }),
    ],
    sparkType: udt('VectorUDT', [
      field('type', 'byte', false),
      field('size', 'integer', true),
      field('indices', arrayOf('integer'), true),
      field('values', arrayOf('double'), true),
    ]),
    nullable: true,
  };
}

/** A Matrix value as MatrixUDT stores it: type 0 sparse (CSC, or CSR when transposed), 1 dense. */
export interface MatrixStruct {
  readonly type: 0 | 1;
  readonly numRows: number;
  readonly numCols: number;
  readonly colPtrs: number[] | null;
  readonly rowIndices: number[] | null;
  readonly values: number[];
  readonly isTransposed: boolean;
}

export function matrixColumn(name: string, matrices: MatrixStruct[]): DataColumn {
  return {
    name,
    data: matrices,
    schema: [
      { name, repetition_type: 'OPTIONAL', num_children: 7 },
      BYTE,
      { name: 'numRows', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'numCols', type: 'INT32', repetition_type: 'REQUIRED' },
      ...list('colPtrs', { name: 'element', type: 'INT32' }),
      ...list('rowIndices', { name: 'element', type: 'INT32' }),
      ...list('values', { name: 'element', type: 'DOUBLE' }),
      { name: 'isTransposed', type: 'BOOLEAN', repetition_type: 'REQUIRED' },
    ],
    sparkType: udt('MatrixUDT', [
      field('type', 'byte', false),
      field('numRows', 'integer', false),
      field('numCols', 'integer', false),
      field('colPtrs', arrayOf('integer'), true),
      field('rowIndices', arrayOf('integer'), true),
      field('values', arrayOf('double'), true),
      field('isTransposed', 'boolean', false),
    ]),
    nullable: true,
  };
}

function udt(name: 'VectorUDT' | 'MatrixUDT', fields: object[]): object {
  return { type: 'udt', class: `org.apache.spark.ml.linalg.${name}`, pyClass: `pyspark.ml.linalg.${name}`, sqlType: { type: 'struct', fields } };
}

/**
 * Matrix.compressed for a coefficient matrix (classes × features, held row-major): Spark
 * keeps whichever of dense, CSC and CSR is smallest. With fewer rows than columns CSR is
 * never larger than CSC, so the choice is dense or CSR (stored transposed, as Spark does).
 */
export function compressedRowMajor(numRows: number, numCols: number, values: Float64Array): MatrixStruct {
  if (numRows > numCols) throw new Error('compressedRowMajor expects fewer rows than columns');
  let nnz = 0;
  for (const v of values) if (v !== 0) nnz++;
  const dense = 8 * numRows * numCols + 8;
  const csr = 12 * nnz + 4 * (numRows + 1) + 8 + 8;
  if (dense <= csr) {
    return { type: 1, numRows, numCols, colPtrs: null, rowIndices: null, values: Array.from(values), isTransposed: true };
  }
  const ptrs = [0];
  const idx: number[] = [];
  const vals: number[] = [];
  for (let r = 0; r < numRows; r++) {
    for (let c = 0; c < numCols; c++) {
      const v = values[r * numCols + c]!;
      if (v !== 0) {
        idx.push(c);
        vals.push(v);
      }
    }
    ptrs.push(idx.length);
  }
  return { type: 0, numRows, numCols, colPtrs: ptrs, rowIndices: idx, values: vals, isTransposed: true };
}
