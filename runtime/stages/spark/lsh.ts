import { vectorSize, type Vector } from '../../pipeline/frame.js';
import type { Stage, StageContext, StageFactory } from '../../pipeline/stage.js';
import { defaultOutputCol } from './common.js';
import { failRow, savedBefore } from './stage-helpers.js';
import { matrixFromStruct } from './udt.js';

/**
 * The LSH models, MinHashLSHModel and BucketedRandomProjectionLSHModel, as transformers:
 * each writes its hash column the way Spark's `transform` does, an array with one
 * 1-element dense vector per hash table. (Spark's approxNearestNeighbors and
 * approxSimilarityJoin search a second dataset and have no place on a stream.)
 */

const ML = 'org.apache.spark.ml.feature.';

/** MinHashLSH's modulus, the prime 2038074743. */
const HASH_PRIME = 2038074743;

async function modelRow(ctx: StageContext): Promise<Record<string, unknown>> {
  const rows = await ctx.readData();
  if (rows.length === 0) throw new Error('data/ holds no rows');
  return rows[0]!;
}

/** A stage writing, per row, the hash vectors `hash` returns (or a message failing the row). */
function hashStage(ctx: StageContext, hash: (v: Vector) => Vector[] | string): Stage {
  const uid = ctx.metadata.uid;
  const input = ctx.params.string('inputCol');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  const name = ctx.metadata.class.slice(ctx.metadata.class.lastIndexOf('.') + 1);
  return {
    uid,
    className: ctx.metadata.class,
    inputCols: [input],
    outputCols: [output],
    transform(frame) {
      const values = frame.getTyped(input, 'vector').values;
      const out = new Array<Vector[] | null>(values.length).fill(null);
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (v == null) {
          failRow(frame, i, `${name}: column "${input}" is null`, uid);
          continue;
        }
        const r = hash(v);
        if (typeof r === 'string') failRow(frame, i, `${name}: ${r}`, uid);
        else out[i] = r;
      }
      frame.set(output, { type: 'vectors', values: out });
    },
  };
}

/** (x · a) mod p for 0 ≤ x, a < 2³¹ without leaving exact double arithmetic: x is split in 16-bit halves. */
function mulMod(x: number, a: number): number {
  const high = Math.floor(x / 65536);
  const low = x % 65536;
  return (((high * a) % HASH_PRIME) * 65536 + low * a) % HASH_PRIME;
}

/** Spark 2.x's MinHash term: `((1 + i)·a + b) % p` in Java int arithmetic, wrapping on overflow (and so possibly negative). */
function intHash(i: number, a: number, b: number): number {
  return ((Math.imul(i + 1, a) + b) | 0) % HASH_PRIME;
}

/**
 * MinHashLSHModel: for each (a, b) pair of `randCoefficients` (saved flattened as
 * a0, b0, a1, b1, …), the minimum over the vector's non-zero entries i of
 * `((1 + i)·a + b) mod 2038074743`. Spark 3 computes it with 64-bit integers (exact here
 * too); Spark 2 computed it with 32-bit ints, which wrap for large coefficients, and saves
 * from 2.x are hashed that way. A vector without a non-zero entry fails its row, as
 * Spark's require does.
 */
const minHashLSH: StageFactory = async (ctx) => {
  const row = await modelRow(ctx);
  const flat = row.randCoefficients;
  if (!Array.isArray(flat) || flat.length % 2 !== 0) throw new Error('data/ randCoefficients must be a list of (a, b) pairs, flattened');
  const coefficients = flat.map(Number);
  const tables = coefficients.length / 2;
  const wrapping = savedBefore(ctx.metadata, 3);
  return hashStage(ctx, (v) => {
    const nonZero: number[] = [];
    if (v instanceof Float64Array) v.forEach((x, i) => x !== 0 && nonZero.push(i));
    else v.values.forEach((x, k) => x !== 0 && nonZero.push(v.indices[k]!));
    if (nonZero.length === 0) return 'Must have at least 1 non zero entry.';
    const hashes: Vector[] = [];
    for (let t = 0; t < tables; t++) {
      const a = coefficients[2 * t]!;
      const b = coefficients[2 * t + 1]!;
      let min = Infinity;
      for (const i of nonZero) {
        const h = wrapping ? intHash(i, a, b) : (mulMod(i + 1, a) + b) % HASH_PRIME;
        if (h < min) min = h;
      }
      hashes.push(Float64Array.of(min));
    }
    return hashes;
  });
};

/**
 * BucketedRandomProjectionLSHModel: `floor(u · x / bucketLength)` for each random unit
 * vector u (the rows of the saved `randUnitVectors` matrix). Spark 3 multiplies the dot
 * product by 1/bucketLength (a gemv with that alpha); Spark 2 divided by bucketLength.
 */
const bucketedRandomProjectionLSH: StageFactory = async (ctx) => {
  const bucketLength = ctx.params.number('bucketLength');
  const row = await modelRow(ctx);
  const { numRows, numCols, values } = matrixFromStruct(row.randUnitVectors);
  const divide = savedBefore(ctx.metadata, 3);
  const alpha = 1 / bucketLength;
  return hashStage(ctx, (v) => {
    if (vectorSize(v) !== numCols) return `expected a vector of size ${numCols}, got ${vectorSize(v)}`;
    const hashes: Vector[] = [];
    for (let r = 0; r < numRows; r++) {
      let dot = 0;
      const base = r * numCols;
      if (v instanceof Float64Array) for (let c = 0; c < numCols; c++) dot += values[base + c]! * v[c]!;
      else for (let k = 0; k < v.indices.length; k++) dot += values[base + v.indices[k]!]! * v.values[k]!;
      hashes.push(Float64Array.of(Math.floor(divide ? dot / bucketLength : dot * alpha)));
    }
    return hashes;
  });
};

export const lshStages: Record<string, StageFactory> = {
  [ML + 'MinHashLSHModel']: minHashLSH,
  [ML + 'BucketedRandomProjectionLSHModel']: bucketedRandomProjectionLSH,
};
