import type { Vector } from '../pipeline/frame.js';
import {
  booleanColumn,
  compressedRowMajor,
  dbl,
  denseVectorColumn,
  int32Column,
  matrixColumn,
  writeData,
  writeMetadata,
} from '../packages/spark-writer.js';
import { closestFinder, randomCenters, updateKMeans, type KMeansParams, type KMeansState } from './kmeans.js';
import { gradientDescentBatch, margin, type LabelledPoint, type SgdParams } from './sgd.js';

/**
 * The online models `mlstream train` updates, one micro-batch at a time, and how each is
 * saved as the model stage of a Spark package:
 *
 * - logistic-sgd → LogisticRegressionModel (binomial, threshold 0.5): P(1) = σ(w·x + b)
 * - linear-sgd → LinearRegressionModel: w·x + b
 * - kmeans → KMeansModel (euclidean): the closest centre's index
 *
 * A model's state is plain Float64Arrays, so a checkpoint holds its exact bits.
 */

export type Algorithm = 'logistic-sgd' | 'linear-sgd' | 'kmeans';

/** How well the model predicted one record before learning it (prequential). */
export interface Outcome {
  readonly correct?: boolean;
  readonly logLoss?: number;
  readonly squaredError?: number;
  readonly cost?: number;
}

export interface ModelState {
  /** SGD: the weights, the intercept last when fitted. k-means: centres (k × dim, row-major). */
  readonly params: Float64Array;
  /** k-means cluster weights; empty for SGD. */
  readonly clusterWeights: Float64Array;
  readonly dim: number;
}

export interface OnlineModel {
  readonly algorithm: Algorithm;
  readonly dim: number;
  /** The raw prediction (class index, value or cluster) and, for logistic regression, P(class 1). */
  predict(x: Vector): { prediction: number; probability?: number };
  evaluate(x: Vector, label: number): Outcome;
  update(batch: readonly LabelledPoint[]): void;
  state(): ModelState;
  writeStage(dir: string, uid: string, featuresCol: string): Promise<void>;
}

export interface ModelSettings {
  readonly algorithm: Algorithm;
  readonly sgd: SgdParams;
  readonly kmeans: KMeansParams;
  readonly seed: number;
}

const ML = 'org.apache.spark.ml.';
/** Probabilities are clipped for log loss so a confident mistake costs a large finite amount. */
const EPS = 1e-15;

export function createModel(s: ModelSettings, dim: number, from?: ModelState): OnlineModel {
  if (s.algorithm === 'kmeans') {
    const state: KMeansState = from
      ? { centers: Float64Array.from(from.params), weights: Float64Array.from(from.clusterWeights), dim }
      : randomCenters(s.kmeans.k, dim, 0, s.seed);
    return kmeansModel(state, s.kmeans);
  }
  const weights = from ? Float64Array.from(from.params) : new Float64Array(dim + (s.sgd.intercept ? 1 : 0));
  return s.algorithm === 'logistic-sgd' ? logisticModel(weights, dim, s.sgd) : linearModel(weights, dim, s.sgd);
}

function splitWeights(weights: Float64Array, dim: number, intercept: boolean): { coefficients: Float64Array; intercept: number } {
  return { coefficients: weights.subarray(0, dim), intercept: intercept ? weights[dim]! : 0 };
}

function logisticModel(weights: Float64Array, dim: number, p: SgdParams): OnlineModel {
  const probability = (x: Vector): number => 1 / (1 + Math.exp(-margin(weights, x, p.intercept)));
  return {
    algorithm: 'logistic-sgd',
    dim,
    predict(x) {
      const pr = probability(x);
      return { prediction: pr > 0.5 ? 1 : 0, probability: pr };
    },
    evaluate(x, label) {
      const pr = probability(x);
      const pLabel = Math.min(Math.max(label === 1 ? pr : 1 - pr, EPS), 1);
      return { correct: (pr > 0.5 ? 1 : 0) === label, logLoss: -Math.log(pLabel) };
    },
    update: (batch) => void gradientDescentBatch(weights, batch, 'logistic', p),
    state: () => ({ params: weights, clusterWeights: new Float64Array(0), dim }),
    async writeStage(dir, uid, featuresCol) {
      const w = splitWeights(weights, dim, p.intercept);
      await writeMetadata(dir, {
        class: `${ML}classification.LogisticRegressionModel`,
        uid,
        paramMap: { featuresCol, regParam: dbl(p.regParam), maxIter: p.numIterations, fitIntercept: p.intercept, threshold: dbl(0.5) },
        defaultParamMap: { featuresCol: 'features', labelCol: 'label', predictionCol: 'prediction', probabilityCol: 'probability', rawPredictionCol: 'rawPrediction', family: 'auto', threshold: dbl(0.5) },
      });
      await writeData(dir, [
        int32Column('numClasses', [2]),
        int32Column('numFeatures', [dim]),
        denseVectorColumn('interceptVector', [[w.intercept]]),
        matrixColumn('coefficientMatrix', [compressedRowMajor(1, dim, w.coefficients)]),
        booleanColumn('isMultinomial', [false]),
      ]);
    },
  };
}

function linearModel(weights: Float64Array, dim: number, p: SgdParams): OnlineModel {
  return {
    algorithm: 'linear-sgd',
    dim,
    predict: (x) => ({ prediction: margin(weights, x, p.intercept) }),
    evaluate: (x, label) => ({ squaredError: (margin(weights, x, p.intercept) - label) ** 2 }),
    update: (batch) => void gradientDescentBatch(weights, batch, 'squared', p),
    state: () => ({ params: weights, clusterWeights: new Float64Array(0), dim }),
    async writeStage(dir, uid, featuresCol) {
      const w = splitWeights(weights, dim, p.intercept);
      await writeMetadata(dir, {
        class: `${ML}regression.LinearRegressionModel`,
        uid,
        paramMap: { featuresCol, regParam: dbl(p.regParam), maxIter: p.numIterations, fitIntercept: p.intercept, solver: 'auto' },
        defaultParamMap: { featuresCol: 'features', labelCol: 'label', predictionCol: 'prediction', loss: 'squaredError' },
      });
      await writeData(dir, [
        { name: 'intercept', data: [w.intercept], schema: [{ name: 'intercept', type: 'DOUBLE', repetition_type: 'REQUIRED' }], sparkType: 'double', nullable: false },
        denseVectorColumn('coefficients', [w.coefficients]),
        { name: 'scale', data: [1], schema: [{ name: 'scale', type: 'DOUBLE', repetition_type: 'REQUIRED' }], sparkType: 'double', nullable: false },
      ]);
    },
  };
}

function kmeansModel(state: KMeansState, p: KMeansParams): OnlineModel {
  const { dim } = state;
  // The search keeps the centres' norms, so it is rebuilt whenever the centres move.
  let closest = closestFinder(state);
  return {
    algorithm: 'kmeans',
    dim,
    predict: (x) => ({ prediction: closest(x).index }),
    evaluate: (x) => ({ cost: closest(x).cost }),
    update(batch) {
      updateKMeans(state, batch.map((b) => b.features), p);
      closest = closestFinder(state);
    },
    state: () => ({ params: state.centers, clusterWeights: state.weights, dim }),
    async writeStage(dir, uid, featuresCol) {
      await writeMetadata(dir, {
        class: `${ML}clustering.KMeansModel`,
        uid,
        paramMap: { featuresCol, k: p.k, distanceMeasure: 'euclidean' },
        defaultParamMap: { featuresCol: 'features', predictionCol: 'prediction', k: 2, distanceMeasure: 'euclidean' },
      });
      const centers = Array.from({ length: p.k }, (_, c) => state.centers.subarray(c * dim, (c + 1) * dim));
      await writeData(dir, [int32Column('clusterIdx', centers.map((_, c) => c)), denseVectorColumn('clusterCenter', centers)]);
    },
  };
}

/** The size of a feature vector as the models see it. */
export function featureSize(x: Vector): number {
  return x instanceof Float64Array ? x.length : x.size;
}
