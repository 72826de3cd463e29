import { argmax, vectorSize, type Vector } from '../../pipeline/frame.js';
import type { ModelOutputs, StageFactory } from '../../pipeline/stage.js';
import { failRow, savedBefore } from './stage-helpers.js';
import { denseFromStruct } from './udt.js';
import { probabilityToPrediction, readThresholds } from './predictors.js';

const ML = 'org.apache.spark.ml.classification.';

/** One affine layer y = W·x + b, W stored column-major (numOut × numIn) as in Spark's weight vector. */
interface Affine {
  readonly numIn: number;
  readonly numOut: number;
  readonly offset: number;
}

function affineLayers(layers: readonly number[], weights: Float64Array): Affine[] {
  const out: Affine[] = [];
  let offset = 0;
  for (let l = 0; l + 1 < layers.length; l++) {
    const numIn = layers[l]!;
    const numOut = layers[l + 1]!;
    out.push({ numIn, numOut, offset });
    offset += numIn * numOut + numOut;
  }
  if (offset !== weights.length) throw new Error(`layers ${JSON.stringify(layers)} need ${offset} weights, data/ holds ${weights.length}`);
  return out;
}

/**
 * Spark's AffineLayerModel: the output starts as the bias and the dgemm adds
 * x[i]·W[:, i] input by input (reference BLAS skips zero inputs).
 */
function affine(layer: Affine, weights: Float64Array, x: ArrayLike<number>): Float64Array {
  const { numIn, numOut, offset } = layer;
  const y = weights.slice(offset + numIn * numOut, offset + numIn * numOut + numOut);
  for (let i = 0; i < numIn; i++) {
    const xi = x[i]!;
    if (xi === 0) continue;
    const col = offset + i * numOut;
    for (let j = 0; j < numOut; j++) y[j] = y[j]! + xi * weights[col + j]!;
  }
  return y;
}

/** Spark's softmax (ml.impl.Utils): exp(x − max) / Σ in place; the first +∞ takes all the mass. */
function softmaxInPlace(v: Float64Array): Float64Array {
  let max = -Number.MAX_VALUE;
  for (let i = 0; i < v.length; i++) {
    if (v[i] === Infinity) {
      v.fill(0);
      v[i] = 1;
      return v;
    }
    if (v[i]! > max) max = v[i]!;
  }
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    const e = Math.exp(v[i]! - max);
    v[i] = e;
    sum += e;
  }
  for (let i = 0; i < v.length; i++) v[i] = v[i]! / sum;
  return v;
}

function toDense(v: Vector): Float64Array {
  if (v instanceof Float64Array) return v;
  const out = new Float64Array(v.size);
  for (let k = 0; k < v.indices.length; k++) out[v.indices[k]!] = v.values[k]!;
  return out;
}

/**
 * MultilayerPerceptronClassificationModel: affine layers with sigmoid activations and a
 * softmax output. rawPrediction is the last affine layer's output, probability its
 * softmax, prediction the argmax (of probability / thresholds when thresholds are set).
 * Saves from before 3.0 keep `layers` in data/ and only produce a prediction.
 */
const multilayerPerceptron: StageFactory = async (ctx) => {
  const uid = ctx.metadata.uid;
  const p = ctx.params;
  const rows = await ctx.readData();
  if (rows.length === 0) throw new Error('data/ holds no rows');
  const row = rows[0]!;
  const legacy = savedBefore(ctx.metadata, 3);
  const layers = legacy && Array.isArray(row.layers) ? (row.layers as unknown[]).map(Number) : p.numbers('layers');
  const weights = denseFromStruct(row.weights);
  const layerShapes = affineLayers(layers, weights);
  const numFeatures = layers[0]!;
  const numClasses = layers[layers.length - 1]!;
  const featuresCol = p.string('featuresCol', 'features');
  const predictionCol = p.string('predictionCol', 'prediction');
  const rawPredictionCol = legacy ? '' : p.string('rawPredictionCol', 'rawPrediction');
  const probabilityCol = legacy ? '' : p.string('probabilityCol', 'probability');
  const thresholds = readThresholds(ctx, numClasses);
  const modelOutputs: ModelOutputs = {
    predictionCol,
    numClasses,
    ...(probabilityCol ? { probabilityCol } : {}),
    ...(rawPredictionCol ? { rawPredictionCol } : {}),
  };

  const predictRaw = (x: Float64Array): Float64Array => {
    let a: Float64Array = x;
    for (let l = 0; l < layerShapes.length; l++) {
      a = affine(layerShapes[l]!, weights, a);
      if (l + 1 < layerShapes.length) for (let j = 0; j < a.length; j++) a[j] = 1.0 / (1 + Math.exp(-a[j]!));
    }
    return a;
  };

  return {
    uid,
    className: ctx.metadata.class,
    inputCols: [featuresCol],
    outputCols: [predictionCol, probabilityCol, rawPredictionCol].filter((c) => c !== ''),
    modelOutputs,
    transform(frame) {
      const features = frame.getTyped(featuresCol, 'vector').values;
      const n = features.length;
      const prediction = new Float64Array(n);
      const raws = rawPredictionCol ? new Array<Vector | null>(n).fill(null) : null;
      const probs = probabilityCol ? new Array<Vector | null>(n).fill(null) : null;
      for (let i = 0; i < n; i++) {
        const v = features[i];
        if (v == null || vectorSize(v) !== numFeatures) {
          failRow(frame, i, v == null ? `MultilayerPerceptronClassificationModel: column "${featuresCol}" is null` : `MultilayerPerceptronClassificationModel: expected a vector of size ${numFeatures}, got ${vectorSize(v)}`, uid);
          continue;
        }
        const raw = predictRaw(toDense(v));
        const probability = softmaxInPlace(raw.slice());
        if (raws) raws[i] = raw;
        if (probs) probs[i] = probability;
        if (thresholds) prediction[i] = probabilityToPrediction(probability, thresholds);
        else prediction[i] = rawPredictionCol ? argmax(raw) : argmax(probability);
      }
      frame.set(predictionCol, { type: 'double', values: prediction });
      if (raws) frame.set(rawPredictionCol, { type: 'vector', size: numClasses, values: raws });
      if (probs) frame.set(probabilityCol, { type: 'vector', size: numClasses, values: probs });
    },
  };
};

export const neuralStages: Record<string, StageFactory> = {
  [ML + 'MultilayerPerceptronClassificationModel']: multilayerPerceptron,
};
