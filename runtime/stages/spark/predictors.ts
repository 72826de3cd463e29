import { ErrorCodes } from '../../errors.js';
import { argmax, vectorSize, type Column, type Frame, type Vector } from '../../pipeline/frame.js';
import type { ModelOutputs, Stage, StageContext } from '../../pipeline/stage.js';
import { sparkVersionOf, type SparkVersion } from './stage-helpers.js';

/**
 * What Spark's PredictionModel / ClassificationModel / ProbabilisticClassificationModel do
 * around a model's own arithmetic: which output columns exist (an empty column param skips
 * that output), which of raw → probability → prediction feeds the next, and thresholds.
 */

/** A row the model cannot score (Spark fails the task on it); the row is rejected instead. */
export class RowError extends Error {
  override name = 'RowError';
}

/** The Spark version that saved the stage; a missing or odd value counts as the newest. */
export function savedVersion(ctx: StageContext): SparkVersion {
  return sparkVersionOf(ctx.metadata);
}

export interface ClassifierCore {
  readonly numClasses: number;
  /** Throws RowError for a vector the model cannot read (wrong size, invalid values). */
  checkFeatures(features: Vector): void;
  predictRaw(features: Vector, out: Float64Array): void;
  raw2prediction(raw: Float64Array): number;
  /** Used only when both rawPredictionCol and probabilityCol are empty. */
  predict(features: Vector): number;
}

export interface ProbabilisticCore extends ClassifierCore {
  raw2probability(raw: Float64Array, out: Float64Array): void;
  probability2prediction(probability: Float64Array): number;
}

export interface RegressorCore {
  checkFeatures(features: Vector): void;
  predict(features: Vector): number;
}

/** An extra per-row output some models add (leafCol of trees, varianceCol). */
export type ExtraOutput =
  | { readonly col: string; readonly type: 'double'; compute(features: Vector): number }
  | { readonly col: string; readonly type: 'vector'; readonly size: number; compute(features: Vector): Float64Array };

export function requireSize(features: Vector, numFeatures: number): void {
  const size = vectorSize(features);
  if (size !== numFeatures) throw new RowError(`features vector has size ${size}, the model expects ${numFeatures}`);
}

/** The `thresholds` param, checked against numClasses as Spark's transform() requires. */
export function readThresholds(ctx: StageContext, numClasses: number): Float64Array | undefined {
  if (!ctx.params.has('thresholds')) return undefined;
  const t = Float64Array.from(ctx.params.numbers('thresholds'));
  if (t.length !== numClasses) throw new Error(`thresholds has ${t.length} values for ${numClasses} classes`);
  return t;
}

/** ProbabilisticClassificationModel.probability2prediction: largest p/t (a 0 threshold wins unless p is 0). */
export function probabilityToPrediction(probability: Float64Array, thresholds: Float64Array | undefined): number {
  if (!thresholds) return argmax(probability);
  let best = 0;
  let max = -Infinity;
  for (let i = 0; i < probability.length; i++) {
    const scaled = probability[i]! / thresholds[i]!;
    if (scaled > max) {
      max = scaled;
      best = i;
    }
  }
  return best;
}

/** The generic rules of ProbabilisticClassificationModel, for models that do not override them. */
export function thresholdRules(thresholds: Float64Array | undefined, raw2probability: (raw: Float64Array, out: Float64Array) => void) {
  const probability2prediction = (p: Float64Array): number => probabilityToPrediction(p, thresholds);
  const raw2prediction = (raw: Float64Array): number => {
    if (!thresholds) return argmax(raw);
    const p = new Float64Array(raw.length);
    raw2probability(raw, p);
    return probability2prediction(p);
  };
  return { raw2prediction, probability2prediction };
}

/** ml.impl.Utils.softmax (3.2+): exp(x - max) / sum, a +Infinity margin takes all the mass. */
export function softmax(raw: Float64Array, out: Float64Array): void {
  let max = -Number.MAX_VALUE;
  for (let k = 0; k < raw.length; k++) {
    const v = raw[k]!;
    if (v === Infinity) {
      out.fill(0);
      out[k] = 1.0;
      return;
    }
    if (v > max) max = v;
  }
  let sum = 0;
  for (let k = 0; k < raw.length; k++) {
    out[k] = Math.exp(raw[k]! - max);
    sum += out[k]!;
  }
  for (let k = 0; k < raw.length; k++) out[k]! /= sum;
}

/** ProbabilisticClassificationModel.normalizeToProbabilitiesInPlace (3.x refuses a zero sum; 2.x keeps zeros). */
export function normalizeCounts(raw: Float64Array, out: Float64Array, strict: boolean): void {
  let sum = 0;
  for (let i = 0; i < raw.length; i++) {
    if (strict && !(raw[i]! >= 0)) throw new RowError('raw prediction has a negative value, cannot normalize to probabilities');
    sum += raw[i]!;
  }
  if (sum === 0) {
    if (strict) throw new RowError('raw prediction is all zeros, cannot normalize to probabilities');
    out.set(raw);
    return;
  }
  for (let i = 0; i < raw.length; i++) out[i] = raw[i]! / sum;
}

interface PredictorCols {
  readonly features: string;
  readonly prediction: string;
}

function predictorCols(ctx: StageContext): PredictorCols {
  return {
    features: ctx.params.string('featuresCol', 'features'),
    prediction: ctx.params.string('predictionCol', 'prediction'),
  };
}

/**
 * Runs `score` on every row's features; a null vector or a RowError rejects the row (the
 * columns keep a placeholder until the frame compacts).
 */
export function eachRow(frame: Frame, featuresCol: string, uid: string, score: (i: number, x: Vector) => void): void {
  const features = frame.getTyped(featuresCol, 'vector').values;
  for (let i = 0; i < features.length; i++) {
    const x = features[i];
    if (!x) {
      frame.reject(i, ErrorCodes.PIPELINE_ERROR, `features column "${featuresCol}" is null`, uid);
      continue;
    }
    try {
      score(i, x);
    } catch (e) {
      if (!(e instanceof RowError)) throw e;
      frame.reject(i, ErrorCodes.PIPELINE_ERROR, e.message, uid);
    }
  }
}

function extraColumns(extras: readonly ExtraOutput[], n: number) {
  return extras.map((e) =>
    e.type === 'double'
      ? { e, values: new Float64Array(n).fill(NaN) as Float64Array | (Vector | null)[] }
      : { e, values: new Array<Vector | null>(n).fill(null) as Float64Array | (Vector | null)[] },
  );
}

function setExtras(frame: Frame, cols: ReturnType<typeof extraColumns>): void {
  for (const { e, values } of cols) {
    const column: Column =
      e.type === 'double'
        ? { type: 'double', values: values as Float64Array }
        : { type: 'vector', size: e.size, values: values as (Vector | null)[] };
    frame.set(e.col, column);
  }
}

function computeExtras(cols: ReturnType<typeof extraColumns>, i: number, x: Vector): void {
  for (const { e, values } of cols) values[i] = e.compute(x);
}

/** A ClassificationModel (probabilistic or not) as a pipeline stage. */
export function classifierStage(ctx: StageContext, core: ClassifierCore | ProbabilisticCore, extras: readonly ExtraOutput[] = []): Stage {
  const cols = predictorCols(ctx);
  const rawCol = ctx.params.string('rawPredictionCol', 'rawPrediction');
  const probabilistic = 'raw2probability' in core;
  const probCol = probabilistic ? ctx.params.string('probabilityCol', 'probability') : '';
  const k = core.numClasses;
  const outputCols = [rawCol, probCol, cols.prediction, ...extras.map((e) => e.col)].filter((c) => c !== '');
  const modelOutputs: ModelOutputs | undefined = cols.prediction
    ? {
        predictionCol: cols.prediction,
        ...(probCol ? { probabilityCol: probCol } : {}),
        ...(rawCol ? { rawPredictionCol: rawCol } : {}),
        numClasses: k,
      }
    : undefined;
  return {
    uid: ctx.metadata.uid,
    className: ctx.metadata.class,
    inputCols: [cols.features],
    outputCols,
    ...(modelOutputs ? { modelOutputs } : {}),
    transform(frame) {
      const n = frame.length;
      const raws = new Array<Vector | null>(n).fill(null);
      const probs = new Array<Vector | null>(n).fill(null);
      const preds = new Float64Array(n).fill(NaN);
      const extraCols = extraColumns(extras, n);
      eachRow(frame, cols.features, ctx.metadata.uid, (i, x) => {
        core.checkFeatures(x);
        if (!rawCol && !probCol) {
          if (cols.prediction) preds[i] = core.predict(x);
          computeExtras(extraCols, i, x);
          return;
        }
        const raw = new Float64Array(k);
        core.predictRaw(x, raw);
        let prob: Float64Array | undefined;
        if (probCol) {
          prob = new Float64Array(k);
          (core as ProbabilisticCore).raw2probability(raw, prob);
          probs[i] = prob;
        }
        if (rawCol) raws[i] = raw;
        if (cols.prediction) preds[i] = rawCol ? core.raw2prediction(raw) : (core as ProbabilisticCore).probability2prediction(prob!);
        computeExtras(extraCols, i, x);
      });
      if (rawCol) frame.set(rawCol, { type: 'vector', size: k, values: raws });
      if (probCol) frame.set(probCol, { type: 'vector', size: k, values: probs });
      if (cols.prediction) frame.set(cols.prediction, { type: 'double', values: preds });
      setExtras(frame, extraCols);
    },
  };
}

/** A RegressionModel as a pipeline stage: one double prediction per row. */
export function regressorStage(ctx: StageContext, core: RegressorCore, extras: readonly ExtraOutput[] = []): Stage {
  const cols = predictorCols(ctx);
  return {
    uid: ctx.metadata.uid,
    className: ctx.metadata.class,
    inputCols: [cols.features],
    outputCols: [cols.prediction, ...extras.map((e) => e.col)].filter((c) => c !== ''),
    ...(cols.prediction ? { modelOutputs: { predictionCol: cols.prediction } } : {}),
    transform(frame) {
      const n = frame.length;
      const preds = new Float64Array(n).fill(NaN);
      const extraCols = extraColumns(extras, n);
      eachRow(frame, cols.features, ctx.metadata.uid, (i, x) => {
        core.checkFeatures(x);
        if (cols.prediction) preds[i] = core.predict(x);
        computeExtras(extraCols, i, x);
      });
      if (cols.prediction) frame.set(cols.prediction, { type: 'double', values: preds });
      setExtras(frame, extraCols);
    },
  };
}
