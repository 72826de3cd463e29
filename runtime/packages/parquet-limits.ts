/**
 * Bounds on what a stage's parquet data may decode to, checked against the file's footer
 * before a single page is decoded. A parquet file's size says little about its decoded size:
 * run-length and dictionary encoding let a few kilobytes claim tens of millions of rows, and
 * a compressed page may inflate a thousandfold. The footer states both (row counts, value
 * counts and uncompressed sizes per column chunk), so a file whose claims exceed what the
 * stage's own params allow is refused up front, naming the file and the figure.
 */
import type { FileMetaData } from 'hyparquet';
import { PackageError } from './errors.js';
import type { SparkMetadata } from './spark-format.js';

/** Every stage may decode at least this many rows / values, whatever its params say. */
const ROW_FLOOR = 1 << 18;
const VALUE_FLOOR = 1 << 20;
const UNCOMPRESSED_FLOOR = 64 * 1024 * 1024;
/** Params derive at most this many values: the largest matrix the loader accepts (README). */
const PARAM_VALUE_CAP = 2 ** 27;
/** Plain-encoded numbers take 4–8 bytes; this much inflation still leaves room for text that compresses well. */
const MAX_INFLATION = 32;

/** Size params whose product bounds a stage's fitted state (coefficients, vocabulary, centers, trees). */
const WIDTH_PARAMS = ['numFeatures', 'vectorSize', 'vocabSize', 'size'];
const COUNT_PARAMS = ['numClasses', 'k', 'numTrees'];

export interface ParquetLimits {
  readonly maxRows: number;
  readonly maxValues: number;
  readonly maxUncompressedBytes: number;
}

/** Limits for one data file of a stage: floors for small models, widened by the stage's size params and the file's own size. */
export function parquetLimits(metadata: SparkMetadata | undefined, fileBytes: number): ParquetLimits {
  const width = largestParam(metadata, WIDTH_PARAMS);
  const count = largestParam(metadata, COUNT_PARAMS);
  const fromParams = Math.min(PARAM_VALUE_CAP, 2 * width * count);
  return {
    maxRows: Math.max(ROW_FLOOR, fileBytes, Math.min(PARAM_VALUE_CAP, 2 * count)),
    maxValues: Math.max(VALUE_FLOOR, fileBytes, fromParams),
    maxUncompressedBytes: Math.max(UNCOMPRESSED_FLOOR, MAX_INFLATION * fileBytes, 8 * fromParams),
  };
}

/** Refuses `file` when its footer claims more rows, values or uncompressed bytes than `limits` allow. */
export function checkParquetFooter(footer: FileMetaData, limits: ParquetLimits, file: string): void {
  const refuse = (what: string, n: bigint, max: number) => {
    throw new PackageError(`parquet footer claims ${n} ${what}, over the ${max} this stage's params allow (checked before decoding)`, file);
  };
  let rows = 0n;
  let uncompressed = 0n;
  for (const group of footer.row_groups) {
    rows += BigInt(group.num_rows);
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (!meta) continue;
      if (meta.num_values > BigInt(limits.maxValues)) refuse(`values in column ${meta.path_in_schema.join('.')}`, meta.num_values, limits.maxValues);
      uncompressed += BigInt(meta.total_uncompressed_size);
    }
  }
  const declared = BigInt(footer.num_rows);
  const claimed = declared > rows ? declared : rows;
  if (claimed > BigInt(limits.maxRows)) refuse('rows', claimed, limits.maxRows);
  if (uncompressed > BigInt(limits.maxUncompressedBytes)) refuse('uncompressed bytes', uncompressed, limits.maxUncompressedBytes);
}

function largestParam(metadata: SparkMetadata | undefined, names: readonly string[]): number {
  let best = 1;
  for (const name of names) {
    for (const v of [metadata?.[name], metadata?.paramMap?.[name], metadata?.defaultParamMap?.[name]]) {
      if (typeof v === 'number' && Number.isFinite(v) && v > best) best = v;
    }
  }
  return best;
}
