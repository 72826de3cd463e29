import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { validateMetadata } from './schema-validators.js';
import { PackageError } from './errors.js';
import { LoadScope } from './load-scope.js';
import { checkParquetFooter, parquetLimits } from './parquet-limits.js';

/** The JSON line Spark writes into `metadata/part-00000` of every saved object. */
export interface SparkMetadata {
  readonly class: string;
  readonly uid: string;
  readonly sparkVersion?: string;
  readonly timestamp?: number;
  readonly paramMap?: Record<string, unknown>;
  readonly defaultParamMap?: Record<string, unknown>;
  readonly [extra: string]: unknown;
}

/** Parquet files above this size are refused before they are read into memory. */
export const MAX_PARQUET_BYTES = 512 * 1024 * 1024;
/** Spark writes one JSON line of metadata; anything this large is not one. */
const MAX_METADATA_BYTES = 64 * 1024 * 1024;

/**
 * Finds the metadata part file: `part-00000` up to Spark 3.5, `part-00000-<uuid>-c000.txt`
 * in 4.x. Hidden files (`.part-00000.crc`) and `_SUCCESS` are Hadoop's side files.
 */
export async function readMetadata(dir: string, scope?: LoadScope): Promise<SparkMetadata> {
  const within = scope ?? (await LoadScope.open(dir));
  const metaDir = join(dir, 'metadata');
  let names: string[];
  try {
    if ((await within.inside(metaDir)) === null) throw new Error('missing');
    names = await readdir(metaDir);
  } catch (e) {
    if (e instanceof PackageError) throw e;
    throw new PackageError('missing metadata/ folder (not a saved Spark object)', metaDir);
  }
  const parts = names.filter((n) => n.startsWith('part-')).sort();
  if (parts.length === 0) throw new PackageError('no part-* file in metadata/', metaDir);
  const file = join(metaDir, parts[0]!);
  if ((await within.inside(file)) === null) throw new PackageError('metadata file is unreadable', file);
  const { size } = await stat(file);
  if (size > MAX_METADATA_BYTES) throw new PackageError(`metadata file is ${size} bytes, over the ${MAX_METADATA_BYTES} limit`, file);
  const text = (await readFile(file, 'utf8')).trim();
  const firstLine = text.split('\n')[0] ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(firstLine);
  } catch (e) {
    throw new PackageError(`metadata is not JSON (${jsonSyntaxReason(e)})`, file);
  }
  if (!validateMetadata(parsed)) {
    const why = (validateMetadata.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new PackageError(`metadata does not match schemas/stage-metadata.schema.json: ${why}`, file);
  }
  checkSizes(parsed as SparkMetadata, file);
  return parsed as SparkMetadata;
}

/** Spark's sizes are Java ints: anything larger cannot be a real save, and is refused before allocation. */
const MAX_SPARK_SIZE = 2 ** 31 - 1;
const SIZE_PARAMS = ['numFeatures', 'vectorSize', 'vocabSize', 'numClasses', 'size', 'k'];

function checkSizes(metadata: SparkMetadata, file: string): void {
  const places: Array<[string, unknown]> = [];
  for (const name of SIZE_PARAMS) {
    places.push([name, metadata[name]], [`paramMap.${name}`, metadata.paramMap?.[name]], [`defaultParamMap.${name}`, metadata.defaultParamMap?.[name]]);
  }
  for (const [where, v] of places) {
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_SPARK_SIZE) {
      throw new PackageError(`${where} is ${JSON.stringify(v)}: a size must be an integer from 0 to ${MAX_SPARK_SIZE}`, file);
    }
  }
}

/**
 * Reads a param the way Spark resolves it: explicitly set (`paramMap`), else the saved
 * default (`defaultParamMap`, written since 2.4), else the default the stage file gives
 * for the class (needed for 2.1–2.3 saves, which have no defaultParamMap).
 */
export class ParamReader {
  constructor(
    private readonly metadata: SparkMetadata,
    private readonly file: string,
  ) {}

  isSet(name: string): boolean {
    return this.metadata.paramMap !== undefined && name in this.metadata.paramMap;
  }

  has(name: string): boolean {
    return this.isSet(name) || (this.metadata.defaultParamMap !== undefined && name in this.metadata.defaultParamMap);
  }

  raw(name: string): unknown {
    if (this.metadata.paramMap && name in this.metadata.paramMap) return this.metadata.paramMap[name];
    if (this.metadata.defaultParamMap && name in this.metadata.defaultParamMap) return this.metadata.defaultParamMap[name];
    return undefined;
  }

  string(name: string, fallback?: string): string {
    return this.typed(name, fallback, (v): v is string => typeof v === 'string', 'a string');
  }

  number(name: string, fallback?: number): number {
    const v = this.raw(name);
    // Spark writes NaN / Infinity params as strings in JSON.
    if (v === 'NaN') return NaN;
    if (v === 'Infinity' || v === 'Inf') return Infinity;
    if (v === '-Infinity' || v === '-Inf') return -Infinity;
    return this.typed(name, fallback, (x): x is number => typeof x === 'number', 'a number');
  }

  boolean(name: string, fallback?: boolean): boolean {
    return this.typed(name, fallback, (v): v is boolean => typeof v === 'boolean', 'a boolean');
  }

  strings(name: string, fallback?: string[]): string[] {
    return this.typed(name, fallback, (v): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string'), 'a list of strings');
  }

  numbers(name: string, fallback?: number[]): number[] {
    const v = this.raw(name);
    if (Array.isArray(v)) return v.map((x) => numberish(x, name, this.file));
    return this.typed(name, fallback, (_): _ is number[] => false, 'a list of numbers');
  }

  optionalString(name: string): string | undefined {
    const v = this.raw(name);
    return typeof v === 'string' ? v : undefined;
  }

  private typed<T>(name: string, fallback: T | undefined, ok: (v: unknown) => v is T, what: string): T {
    const v = this.raw(name);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      throw new PackageError(`param "${name}" is missing`, this.file);
    }
    if (!ok(v)) throw new PackageError(`param "${name}" must be ${what}, got ${kindOf(v)}`, this.file);
    return v;
  }
}

function numberish(x: unknown, name: string, file: string): number {
  if (typeof x === 'number') return x;
  if (x === 'NaN') return NaN;
  if (x === 'Infinity' || x === 'Inf') return Infinity;
  if (x === '-Infinity' || x === '-Inf') return -Infinity;
  throw new PackageError(`param "${name}" must hold numbers, got ${kindOf(x)}`, file);
}

/** A value's JSON kind, for refusals that must not quote what a file holds. */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * Why JSON.parse failed, without the excerpt of the text V8 puts in its message: a refusal
 * never quotes what a file holds (it may be a system file reached through a symlink).
 */
export function jsonSyntaxReason(e: unknown): string {
  const at = /position (\d+)/.exec((e as Error).message ?? '');
  return at ? `syntax error at character ${at[1]}` : /end of JSON input/.test((e as Error).message ?? '') ? 'unexpected end of input' : 'syntax error';
}

/**
 * Every row of every non-hidden parquet part file in `<dir>/<sub>`, part files in name order.
 * Each file's footer is checked against limits derived from the stage's `metadata` before
 * any page is decoded.
 */
export async function readParquetRows(dir: string, sub = 'data', scope?: LoadScope, metadata?: SparkMetadata): Promise<Record<string, unknown>[]> {
  const within = scope ?? (await LoadScope.open(dir));
  const dataDir = join(dir, sub);
  let names: string[];
  try {
    if ((await within.inside(dataDir)) === null) throw new Error('missing');
    names = await readdir(dataDir);
  } catch (e) {
    if (e instanceof PackageError) throw e;
    throw new PackageError(`missing ${sub}/ folder`, dataDir);
  }
  const parts = names.filter((n) => !n.startsWith('.') && !n.startsWith('_') && n.endsWith('.parquet')).sort();
  if (parts.length === 0) throw new PackageError(`no parquet part file in ${sub}/`, dataDir);
  const rows: Record<string, unknown>[] = [];
  for (const name of parts) {
    const file = join(dataDir, name);
    if ((await within.inside(file)) === null) throw new PackageError('parquet file is unreadable', file);
    const { size } = await stat(file);
    if (size > MAX_PARQUET_BYTES) throw new PackageError(`parquet file is ${size} bytes, over the ${MAX_PARQUET_BYTES} limit`, file);
    try {
      const buffer = await asyncBufferFromFile(file);
      const footer = await parquetMetadataAsync(buffer);
      checkParquetFooter(footer, parquetLimits(metadata, size), file);
      rows.push(...((await parquetReadObjects({ file: buffer, metadata: footer, compressors })) as Record<string, unknown>[]));
    } catch (e) {
      if (e instanceof PackageError) throw e;
      throw new PackageError(`cannot read parquet (${(e as Error).message})`, file);
    }
  }
  return rows;
}

/**
 * Stage i of a pipeline lives in `stages/<i>_<uid>`, the index zero-padded to the digit
 * count of the stage total. Resolved from stageUids, never by listing the folder: a folder
 * may hold stale stage directories from an earlier save.
 */
export function stageDirName(index: number, total: number, uid: string): string {
  const width = String(total).length;
  return `${String(index).padStart(width, '0')}_${uid}`;
}
