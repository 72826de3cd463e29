import { PipelineError, type Column, type Vector } from '../../pipeline/frame.js';
import type { StageFactory } from '../../pipeline/stage.js';
import { defaultOutputCol, javaDoubleString } from './common.js';
import { hashingTFIndex } from './text-vectors.js';

/**
 * FeatureHasher: hashes several columns into one sparse vector of `numFeatures`. A numeric
 * column not listed in `categoricalCols` adds its value at the index of its name's hash; a
 * string or boolean column, or a numeric one listed in `categoricalCols`, adds 1.0 at the
 * index of the hash of `"<column>=<value>"`, the value written as Java's `toString` writes
 * it (so an INTEGER 5 is "5", a DOUBLE 5 is "5.0"). Nulls add nothing; collisions add up.
 * The hash is murmur3 of the UTF-8 bytes with seed 42, non-negative modulo numFeatures,
 * with the standard tail handling (`hashUnsafeBytes2`, SPARK-23381): the fix went in while
 * FeatureHasher was new in 2.3.0, and the docs example's printed indices match it. Spark
 * builds the vector from its (index, value) pairs, so a numeric 0.0 stays as an explicit
 * entry.
 */

const ML = 'org.apache.spark.ml.feature.';

const featureHasher: StageFactory = (ctx) => {
  const uid = ctx.metadata.uid;
  const inputs = ctx.params.strings('inputCols');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  const numFeatures = ctx.params.number('numFeatures', 1 << 18);
  if (!Number.isInteger(numFeatures) || numFeatures < 1) throw new Error(`numFeatures must be a positive integer, got ${numFeatures}`);
  const categorical = new Set(ctx.params.isSet('categoricalCols') ? ctx.params.strings('categoricalCols') : []);
  const indexOf = (term: string): number => hashingTFIndex(term, numFeatures, false);
  const nameIndex = inputs.map(indexOf);
  return {
    uid,
    className: ctx.metadata.class,
    inputCols: inputs,
    outputCols: [output],
    transform(frame) {
      const cols = inputs.map((name) => hashable(frame.get(name), name));
      const n = frame.length;
      const out = new Array<Vector | null>(n);
      const sums = new Map<number, number>();
      for (let i = 0; i < n; i++) {
        sums.clear();
        cols.forEach((col, c) => {
          const name = inputs[c]!;
          if (col.type === 'double' && !categorical.has(name)) {
            if (col.nulls?.[i] === 1) return;
            const at = nameIndex[c]!;
            sums.set(at, (sums.get(at) ?? 0) + col.values[i]!);
            return;
          }
          const text = cellText(col, i);
          if (text === null) return;
          const at = indexOf(`${name}=${text}`);
          sums.set(at, (sums.get(at) ?? 0) + 1);
        });
        const indices = Int32Array.from(sums.keys()).sort();
        out[i] = { size: numFeatures, indices, values: Float64Array.from(indices, (k) => sums.get(k)!) };
      }
      frame.set(output, { type: 'vector', size: numFeatures, values: out });
    },
  };
};

type HashableColumn = Extract<Column, { type: 'double' | 'string' | 'boolean' }>;

function hashable(col: Column, name: string): HashableColumn {
  if (col.type === 'double' || col.type === 'string' || col.type === 'boolean') return col;
  throw new PipelineError(`FeatureHasher requires columns to be of NumericType, BooleanType or StringType. Column ${name} was ${col.type}`);
}

/** The value as `row.get(i).toString` gives it in Spark, or null for a null cell. */
function cellText(col: HashableColumn, i: number): string | null {
  if (col.type === 'string') return col.values[i] ?? null;
  if (col.type === 'boolean') {
    const b = col.values[i];
    return b == null ? null : String(b);
  }
  if (col.nulls?.[i] === 1) return null;
  const x = col.values[i]!;
  if (col.sqlType === 'INTEGER' || col.sqlType === 'LONG') return String(x);
  if (col.sqlType === 'FLOAT') return javaFloatString(x);
  return javaDoubleString(x);
}

/**
 * Java's Float.toString: the shortest decimal that reads back as the same float, in
 * Java's layout (plain between 1e-3 and 1e7, else `d.dddE±n`).
 */
export function javaFloatString(x: number): string {
  if (!Number.isFinite(x) || x === 0) return javaDoubleString(x);
  let digits = x.toPrecision(9);
  for (let p = 1; p <= 9; p++) {
    const candidate = x.toPrecision(p);
    if (Math.fround(Number(candidate)) === x) {
      digits = candidate;
      break;
    }
  }
  return javaDoubleString(Number(digits));
}

export const featureHasherStages: Record<string, StageFactory> = {
  [ML + 'FeatureHasher']: featureHasher,
};
