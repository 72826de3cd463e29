/**
 * IsotonicRegressionModel (increasing or decreasing): a piecewise linear function through
 * the saved (boundary, prediction) points, read at one feature. Spark's rules, from
 * mllib's IsotonicRegressionModel.predict, are replicated exactly, including which of
 * several equal boundaries java.util.Arrays.binarySearch lands on.
 */
import { vectorAt, vectorSize } from '../../pipeline/frame.js';
import type { StageFactory } from '../../pipeline/stage.js';
import { failRow } from './stage-helpers.js';

const REG = 'org.apache.spark.ml.regression.';

/** Java's Double.doubleToLongBits order: -0.0 below 0.0, NaN above everything. */
function javaDoubleCompare(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  const aNaN = Number.isNaN(a);
  const bNaN = Number.isNaN(b);
  if (aNaN || bNaN) return aNaN === bNaN ? 0 : aNaN ? 1 : -1;
  const aNeg = Object.is(a, -0);
  const bNeg = Object.is(b, -0);
  return aNeg === bNeg ? 0 : aNeg ? -1 : 1;
}

/** java.util.Arrays.binarySearch(double[], double): the index, or -(insertion point) - 1. */
function javaBinarySearch(a: Float64Array, key: number): number {
  let low = 0;
  let high = a.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const c = javaDoubleCompare(a[mid]!, key);
    if (c < 0) low = mid + 1;
    else if (c > 0) high = mid - 1;
    else return mid;
  }
  return -(low + 1);
}

/** Clamps outside the boundaries, takes the prediction on an exact hit, interpolates between. */
function isotonicPredict(boundaries: Float64Array, predictions: Float64Array, x: number): number {
  const found = javaBinarySearch(boundaries, x);
  const insert = -found - 1;
  if (insert === 0) return predictions[0]!;
  if (insert === boundaries.length) return predictions[predictions.length - 1]!;
  if (found >= 0) return predictions[found]!;
  const x1 = boundaries[insert - 1]!;
  const y1 = predictions[insert - 1]!;
  const x2 = boundaries[insert]!;
  const y2 = predictions[insert]!;
  return y1 + ((y2 - y1) * (x - x1)) / (x2 - x1);
}

function numberArray(row: Record<string, unknown>, column: string): Float64Array {
  const v = row[column];
  if (!Array.isArray(v)) throw new Error(`data/ has no ${column} array`);
  return Float64Array.from(v, Number);
}

function checkOrdered(values: Float64Array, increasing: boolean, what: string): void {
  for (let i = 1; i < values.length; i++) {
    const ok = increasing ? values[i - 1]! <= values[i]! : values[i - 1]! >= values[i]!;
    if (!ok) throw new Error(`${what} (${values[i - 1]}, ${values[i]}) are not ordered`);
  }
}

/**
 * Reads a double features column as it is, or element `featureIndex` of a vector column,
 * as Spark's transform picks by the column's type. A null double gives a null prediction
 * (Spark skips a UDF on a null primitive); a null vector fails the row.
 */
const isotonicRegression: StageFactory = async (ctx) => {
  const uid = ctx.metadata.uid;
  const rows = await ctx.readData();
  if (rows.length !== 1) throw new Error(`data/ holds ${rows.length} rows, expected 1`);
  const row = rows[0]!;
  const boundaries = numberArray(row, 'boundaries');
  const predictions = numberArray(row, 'predictions');
  const isotonic = Boolean(row.isotonic);
  if (boundaries.length !== predictions.length) throw new Error(`${boundaries.length} boundaries for ${predictions.length} predictions`);
  if (boundaries.length === 0) throw new Error('the model has no boundaries');
  checkOrdered(boundaries, true, 'boundaries');
  checkOrdered(predictions, isotonic, 'predictions');
  const featuresCol = ctx.params.string('featuresCol', 'features');
  const predictionCol = ctx.params.string('predictionCol', 'prediction');
  const featureIndex = ctx.params.number('featureIndex', 0);
  return {
    uid,
    className: ctx.metadata.class,
    inputCols: [featuresCol],
    outputCols: [predictionCol],
    modelOutputs: { predictionCol },
    transform(frame) {
      const col = frame.get(featuresCol);
      const n = frame.length;
      const out = new Float64Array(n);
      let nulls: Uint8Array | undefined;
      if (col.type === 'double') {
        for (let i = 0; i < n; i++) {
          if (col.nulls?.[i]) {
            nulls ??= new Uint8Array(n);
            nulls[i] = 1;
            out[i] = NaN;
          } else out[i] = isotonicPredict(boundaries, predictions, col.values[i]!);
        }
      } else {
        const vectors = frame.getTyped(featuresCol, 'vector').values;
        for (let i = 0; i < n; i++) {
          const v = vectors[i];
          if (!v) failRow(frame, i, `IsotonicRegressionModel: features column "${featuresCol}" is null`, uid);
          else if (featureIndex >= vectorSize(v)) {
            failRow(frame, i, `IsotonicRegressionModel: featureIndex ${featureIndex} is outside a features vector of size ${vectorSize(v)}`, uid);
          } else out[i] = isotonicPredict(boundaries, predictions, vectorAt(v, featureIndex));
        }
      }
      frame.set(predictionCol, { type: 'double', values: out, ...(nulls ? { nulls } : {}) });
    },
  };
};

export const isotonicStages: Record<string, StageFactory> = {
  [REG + 'IsotonicRegressionModel']: isotonicRegression,
};
