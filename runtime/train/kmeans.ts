import { toDense, type Vector } from '../pipeline/frame.js';
import { SPARK_VERSION } from '../packages/spark-writer.js';
import { euclideanClosest } from '../stages/spark/clustering.js';

/**
 * Streaming k-means with the update rule of Spark's StreamingKMeansModel.update, one
 * micro-batch at a time:
 *
 * - every point goes to its closest centre (squared Euclidean distance, found as the served
 *   KMeansModel finds it); per centre the batch contributes a sum and a count;
 * - all cluster weights are discounted by `decayFactor` once per batch (time unit
 *   `batches`) or by `decayFactor ^ points in the batch` (time unit `points`); a half-life
 *   h sets decayFactor = exp(ln 0.5 / h);
 * - each centre that received points moves to the weighted mean of its old position
 *   (its discounted weight) and the new points: c ← (1 − λ)·c + (λ / n)·Σx, with
 *   λ = n / max(weight + n, 1e-16), and its weight becomes weight + n;
 * - when the lightest cluster weighs less than 1e-8 of the heaviest, it is dying: both
 *   take half their summed weight, and the heaviest centre is split in two, each
 *   coordinate x moving by ±1e-14·max(|x|, 1).
 *
 * Initial centres are Spark's setRandomCenters: standard normal coordinates (from a seeded
 * generator here, so a run is repeatable) and equal initial weights.
 */

export type TimeUnit = 'batches' | 'points';

export interface KMeansParams {
  readonly k: number;
  readonly decayFactor: number;
  readonly timeUnit: TimeUnit;
}

export interface KMeansState {
  /** k × dim, row-major. */
  readonly centers: Float64Array;
  readonly weights: Float64Array;
  readonly dim: number;
}

/** decayFactor for a half-life: the weight of data that old has halved. */
export function decayForHalfLife(halfLife: number): number {
  return Math.exp(Math.log(0.5) / halfLife);
}

/** mulberry32: a small seeded generator, enough for initial centres. */
function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomCenters(k: number, dim: number, weight: number, seed: number): KMeansState {
  const uniform = seededUniform(seed);
  const centers = new Float64Array(k * dim);
  // Box–Muller: two uniforms per standard normal draw.
  for (let i = 0; i < centers.length; i++) centers[i] = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { centers, weights: new Float64Array(k).fill(weight), dim };
}

const SAVED_AS = { class: 'org.apache.spark.ml.clustering.KMeansModel', uid: 'KMeansModel', sparkVersion: SPARK_VERSION };

/**
 * Assigns points to the closest of the centres as they stand now, with the search the
 * served KMeansModel stage makes on the versions written (near-ties, as after a split,
 * resolve the same way), and gives the squared distance to that centre.
 */
export function closestFinder(state: KMeansState): (x: Vector) => { index: number; cost: number } {
  const { dim } = state;
  const centers = Array.from({ length: state.weights.length }, (_, c) => state.centers.slice(c * dim, (c + 1) * dim));
  const find = euclideanClosest(centers, SAVED_AS);
  return (x) => {
    const index = find(x);
    const dense = toDense(x);
    let cost = 0;
    for (let j = 0; j < dim; j++) cost += (dense[j]! - centers[index]![j]!) ** 2;
    return { index, cost };
  };
}

export function updateKMeans(state: KMeansState, batch: readonly Vector[], p: KMeansParams): void {
  const { dim, centers, weights } = state;
  const k = weights.length;
  const sums = new Float64Array(k * dim);
  const counts = new Float64Array(k);
  const closest = closestFinder(state);
  for (const x of batch) {
    const c = closest(x).index;
    const dense = toDense(x);
    for (let j = 0; j < dim; j++) sums[c * dim + j]! += dense[j]!;
    counts[c]!++;
  }
  const discount = p.timeUnit === 'batches' ? p.decayFactor : p.decayFactor ** batch.length;
  for (let c = 0; c < k; c++) weights[c] = weights[c]! * discount;
  for (let c = 0; c < k; c++) {
    const n = counts[c]!;
    if (n === 0) continue;
    const updated = weights[c]! + n;
    const lambda = n / Math.max(updated, 1e-16);
    weights[c] = updated;
    for (let j = 0; j < dim; j++) centers[c * dim + j] = (1 - lambda) * centers[c * dim + j]! + (lambda / n) * sums[c * dim + j]!;
  }
  splitDyingCluster(state);
}

function splitDyingCluster({ centers, weights, dim }: KMeansState): void {
  let largest = 0;
  let smallest = 0;
  for (let c = 1; c < weights.length; c++) {
    if (weights[c]! > weights[largest]!) largest = c;
    if (weights[c]! < weights[smallest]!) smallest = c;
  }
  if (!(weights[smallest]! < 1e-8 * weights[largest]!)) return;
  const weight = (weights[largest]! + weights[smallest]!) / 2;
  weights[largest] = weight;
  weights[smallest] = weight;
  for (let j = 0; j < dim; j++) {
    const x = centers[largest * dim + j]!;
    const p = 1e-14 * Math.max(Math.abs(x), 1);
    centers[largest * dim + j] = x + p;
    centers[smallest * dim + j] = x - p;
  }
}
