import { vectorSize, type NarrowNumber, type Vector } from '../../pipeline/frame.js';
import type { StageContext, StageFactory } from '../../pipeline/stage.js';
import { columnPairs, defaultOutputCol } from './common.js';
import { compressedFromDense, norm } from './linalg.js';
import { savedBefore, vectorMapStage } from './stage-helpers.js';
import { denseFromStruct } from './udt.js';

const ML = 'org.apache.spark.ml.feature.';

async function modelRow(ctx: StageContext): Promise<Record<string, unknown>> {
  const rows = await ctx.readData();
  if (rows.length === 0) throw new Error('data/ holds no rows');
  return rows[0]!;
}

function wrongSize(v: Vector, expected: number): string | null {
  const got = vectorSize(v);
  return got === expected ? null : `expected a vector of size ${expected}, got ${got}`;
}

/** Values of v as a fresh dense array (the input vector is never modified). */
function denseCopy(v: Vector): Float64Array {
  if (v instanceof Float64Array) return v.slice();
  const out = new Float64Array(v.size);
  for (let k = 0; k < v.indices.length; k++) out[v.indices[k]!] = v.values[k]!;
  return out;
}

/** Multiplies by a per-feature factor, keeping a sparse vector sparse (explicit zeros included, as Spark does). */
function scaleKeepingShape(v: Vector, factor: (i: number, x: number) => number): Vector {
  if (v instanceof Float64Array) return v.map((x, i) => factor(i, x));
  const values = new Float64Array(v.values.length);
  for (let k = 0; k < values.length; k++) values[k] = factor(v.indices[k]!, v.values[k]!);
  return { size: v.size, indices: v.indices, values };
}

/**
 * StandardScalerModel: `(x - mean) * (1/std)`, a zero std giving scale 0. Centering makes
 * the output dense; scaling alone keeps a sparse vector sparse. Saves from before 3.0 ran
 * mllib's scaler, which writes exactly 0 where std is 0 (even for a NaN input).
 */
const standardScaler: StageFactory = async (ctx) => {
  const input = ctx.params.string('inputCol');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  const withMean = ctx.params.boolean('withMean', false);
  const withStd = ctx.params.boolean('withStd', true);
  const row = await modelRow(ctx);
  const std = denseFromStruct(row.std);
  const mean = denseFromStruct(row.mean);
  const scale = std.map((s) => (s === 0 ? 0 : 1 / s));
  const zeroWhereNoStd = savedBefore(ctx.metadata, 3);
  const n = mean.length;
  return vectorMapStage(ctx, input, output, n, (v) => {
    const bad = wrongSize(v, n);
    if (bad) return bad;
    if (withMean) {
      const values = denseCopy(v);
      for (let i = 0; i < n; i++) {
        const centered = values[i]! - mean[i]!;
        values[i] = withStd ? (zeroWhereNoStd && std[i] === 0 ? 0 : centered * scale[i]!) : centered;
      }
      return values;
    }
    return withStd ? scaleKeepingShape(v, (i, x) => x * scale[i]!) : v;
  });
};

/**
 * MinMaxScalerModel: rescales each feature from [originalMin, originalMax] to [min, max];
 * a constant feature maps to the middle of the range and NaN stays NaN. Since 3.0 Spark
 * multiplies by a precomputed `(max-min)/range` and returns `.compressed`; before, it
 * divided by the range and always returned a dense vector.
 */
const minMaxScaler: StageFactory = async (ctx) => {
  const input = ctx.params.string('inputCol');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  const min = ctx.params.number('min', 0);
  const max = ctx.params.number('max', 1);
  const row = await modelRow(ctx);
  const originalMin = denseFromStruct(row.originalMin);
  const originalMax = denseFromStruct(row.originalMax);
  const n = originalMax.length;
  const targetRange = max - min;
  if (savedBefore(ctx.metadata, 3)) {
    const range = originalMax.map((hi, i) => hi - originalMin[i]!);
    return vectorMapStage(ctx, input, output, n, (v) => {
      const bad = wrongSize(v, n);
      if (bad) return bad;
      const values = denseCopy(v);
      for (let i = 0; i < n; i++) {
        const x = values[i]!;
        if (x !== x) continue;
        const raw = range[i] !== 0 ? (x - originalMin[i]!) / range[i]! : 0.5;
        values[i] = raw * targetRange + min;
      }
      return values;
    });
  }
  const constantOutput = (min + max) / 2;
  const ratio = originalMax.map((hi, i) => {
    const range = hi - originalMin[i]!;
    return range !== 0 ? targetRange / range : 0;
  });
  return vectorMapStage(ctx, input, output, n, (v) => {
    const bad = wrongSize(v, n);
    if (bad) return bad;
    const values = denseCopy(v);
    for (let i = 0; i < n; i++) {
      const x = values[i]!;
      if (x !== x) continue;
      values[i] = ratio[i] !== 0 ? (x - originalMin[i]!) * ratio[i]! + min : constantOutput;
    }
    return compressedFromDense(values);
  });
};

/**
 * MaxAbsScalerModel: divides each feature by its maximum absolute value (a zero maximum
 * leaves the feature as is); sparse stays sparse. Since 3.0 Spark multiplies by the
 * reciprocal instead of dividing.
 */
const maxAbsScaler: StageFactory = async (ctx) => {
  const input = ctx.params.string('inputCol');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  const row = await modelRow(ctx);
  const maxAbs = denseFromStruct(row.maxAbs);
  const n = maxAbs.length;
  const divide = savedBefore(ctx.metadata, 3);
  const divisor = maxAbs.map((m) => (m === 0 ? 1 : m));
  const factor = maxAbs.map((m) => (m === 0 ? 1 : 1 / m));
  return vectorMapStage(ctx, input, output, n, (v) => {
    const bad = wrongSize(v, n);
    if (bad) return bad;
    return divide ? scaleKeepingShape(v, (i, x) => x / divisor[i]!) : scaleKeepingShape(v, (i, x) => x * factor[i]!);
  });
};

/** Normalizer: divides by the p-norm of the stored values; a zero norm returns the vector unchanged. */
const normalizer: StageFactory = (ctx) => {
  const input = ctx.params.string('inputCol');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  const p = ctx.params.number('p', 2);
  return vectorMapStage(ctx, input, output, null, (v) => {
    const pNorm = norm(v, p);
    if (pNorm === 0) return v;
    return scaleKeepingShape(v, (_i, x) => x / pNorm);
  });
};

/**
 * ImputerModel: replaces nulls and values equal to missingValue (NaN by default; NaN
 * equals NaN in Spark SQL) with the surrogate the estimator computed (mean, median or
 * mode — the strategy is already baked into the data row, one column per input column).
 * Spark casts the result back to the input column's type, so an INTEGER or LONG column
 * gets the surrogate truncated toward zero (Java's double-to-int cast) and a FLOAT column
 * gets it rounded to float; the output keeps the input's type.
 */
const imputer: StageFactory = async (ctx) => {
  const uid = ctx.metadata.uid;
  const { inputs, outputs } = columnPairs(ctx.params, () => defaultOutputCol(ctx));
  const missingValue = ctx.params.number('missingValue', NaN);
  const row = await modelRow(ctx);
  const surrogates = inputs.map((name) => {
    const s = row[name];
    if (typeof s !== 'number' && typeof s !== 'bigint') throw new Error(`no surrogate for input column "${name}" in data/`);
    return Number(s);
  });
  const missingIsNaN = missingValue !== missingValue;
  return {
    uid,
    className: ctx.metadata.class,
    inputCols: inputs,
    outputCols: outputs,
    transform(frame) {
      inputs.forEach((name, c) => {
        const col = frame.getTyped(name, 'double');
        const surrogate = castTo(col.sqlType, surrogates[c]!);
        const values = new Float64Array(col.values.length);
        for (let i = 0; i < values.length; i++) {
          const x = col.values[i]!;
          const missing = col.nulls?.[i] === 1 || (missingIsNaN ? x !== x : x === missingValue);
          values[i] = missing ? surrogate : x;
        }
        frame.set(outputs[c]!, { type: 'double', values, ...(col.sqlType ? { sqlType: col.sqlType } : {}) });
      });
    },
  };
};

/** A double cast to a narrower Spark type, as `Cast` does it (the surrogate is never NaN: fit refuses that). */
function castTo(type: NarrowNumber | undefined, x: number): number {
  if (type === 'FLOAT') return Math.fround(x);
  // Java's integer types have no negative zero: -0.5 casts to 0.
  if (type === 'INTEGER' || type === 'LONG') return Math.trunc(x) + 0;
  return x;
}

export const scalerStages: Record<string, StageFactory> = {
  [ML + 'StandardScalerModel']: standardScaler,
  [ML + 'MinMaxScalerModel']: minMaxScaler,
  [ML + 'MaxAbsScalerModel']: maxAbsScaler,
  [ML + 'Normalizer']: normalizer,
  [ML + 'ImputerModel']: imputer,
};
