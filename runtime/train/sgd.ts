import type { Vector } from '../pipeline/frame.js';

/**
 * Mini-batch gradient descent with the update rules of Spark's streaming MLlib
 * (StreamingLogisticRegressionWithSGD / StreamingLinearRegressionWithSGD run
 * GradientDescent.runMiniBatchSGD once per micro-batch, starting from the current weights):
 *
 * - each micro-batch runs `numIterations` iterations; iteration i (1-based, restarting with
 *   every micro-batch as Spark's does) steps by `stepSize / sqrt(i)`;
 * - an iteration averages the gradient over a Bernoulli sample of `miniBatchFraction` of the
 *   batch (all of it at 1.0); an empty sample skips the iteration;
 * - the updater applies regularisation: `simple` (none), `squared-l2` (weights shrink by
 *   1 - step·regParam before the step) or `l1` (soft-thresholding by step·regParam);
 * - iterations stop early once the weights moved less than
 *   `convergenceTol · max(‖w‖, 1)` between two iterations.
 *
 * With an intercept, Spark appends a constant 1.0 feature and keeps the intercept as the
 * last weight, regularised like the others; the same is done here.
 *
 * Spark samples with a per-partition RNG seeded `42 + i`, which cannot be reproduced
 * outside a Spark cluster; here the draw for a record is a hash of its partition, offset
 * and the iteration, so a replayed batch draws the same sample on any machine.
 */

export type Updater = 'simple' | 'squared-l2' | 'l1';
export type LinearLoss = 'logistic' | 'squared';

export interface SgdParams {
  readonly stepSize: number;
  readonly numIterations: number;
  readonly miniBatchFraction: number;
  readonly regParam: number;
  readonly updater: Updater;
  readonly convergenceTol: number;
  readonly intercept: boolean;
}

/** One labelled point of a micro-batch and where it came from (for the sampling draw). */
export interface LabelledPoint {
  readonly features: Vector;
  readonly label: number;
  readonly partition: number;
  readonly offset: bigint;
}

/** w·x (+ the intercept, last, as Spark's dot then add), features in index order. */
export function margin(weights: Float64Array, x: Vector, intercept: boolean): number {
  let m = 0;
  if (x instanceof Float64Array) {
    for (let j = 0; j < x.length; j++) m += x[j]! * weights[j]!;
  } else {
    for (let k = 0; k < x.indices.length; k++) m += x.values[k]! * weights[x.indices[k]!]!;
  }
  return intercept ? m + weights[weights.length - 1]! : m;
}

/** The derivative of the loss by the margin: LogisticGradient's multiplier, LeastSquaresGradient's diff. */
function multiplier(loss: LinearLoss, m: number, label: number): number {
  return loss === 'logistic' ? 1 / (1 + Math.exp(-m)) - label : m - label;
}

function addScaled(grad: Float64Array, x: Vector, a: number, intercept: boolean): void {
  if (x instanceof Float64Array) {
    for (let j = 0; j < x.length; j++) grad[j]! += a * x[j]!;
  } else {
    for (let k = 0; k < x.indices.length; k++) grad[x.indices[k]!]! += a * x.values[k]!;
  }
  if (intercept) grad[grad.length - 1]! += a;
}

/** A uniform draw in [0, 1) fixed by the record's coordinates and the iteration (splitmix64 finaliser). */
export function sampleDraw(partition: number, offset: bigint, iteration: number): number {
  const mask = (1n << 64n) - 1n;
  let z = (offset * 0x9e3779b97f4a7c15n + BigInt(partition) * 0xbf58476d1ce4e5b9n + BigInt(iteration) * 0x94d049bb133111ebn) & mask;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask;
  z ^= z >> 31n;
  return Number(z >> 11n) / 2 ** 53;
}

function applyUpdate(weights: Float64Array, grad: Float64Array, count: number, step: number, p: SgdParams): void {
  if (p.updater === 'squared-l2') {
    const shrink = 1 - step * p.regParam;
    for (let j = 0; j < weights.length; j++) weights[j] = weights[j]! * shrink - step * (grad[j]! / count);
  } else {
    for (let j = 0; j < weights.length; j++) weights[j] = weights[j]! - step * (grad[j]! / count);
    if (p.updater === 'l1') {
      const shrinkage = p.regParam * step;
      for (let j = 0; j < weights.length; j++) {
        const w = weights[j]!;
        weights[j] = Math.sign(w) * Math.max(0, Math.abs(w) - shrinkage);
      }
    }
  }
}

function distance(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j]! - b[j]!) ** 2;
  return Math.sqrt(s);
}

function norm2(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v * v;
  return Math.sqrt(s);
}

/** Runs one micro-batch of gradient descent on `weights` in place; returns the iterations run. */
export function gradientDescentBatch(weights: Float64Array, batch: readonly LabelledPoint[], loss: LinearLoss, p: SgdParams): number {
  const grad = new Float64Array(weights.length);
  const previous = new Float64Array(weights.length);
  let havePrevious = false;
  let ran = 0;
  for (let i = 1; i <= p.numIterations; i++) {
    grad.fill(0);
    let count = 0;
    for (const point of batch) {
      if (p.miniBatchFraction < 1 && sampleDraw(point.partition, point.offset, i) >= p.miniBatchFraction) continue;
      addScaled(grad, point.features, multiplier(loss, margin(weights, point.features, p.intercept), point.label), p.intercept);
      count++;
    }
    ran = i;
    if (count === 0) continue;
    previous.set(weights);
    applyUpdate(weights, grad, count, p.stepSize / Math.sqrt(i), p);
    if (havePrevious && distance(previous, weights) < p.convergenceTol * Math.max(norm2(weights), 1)) break;
    havePrevious = true;
  }
  return ran;
}
