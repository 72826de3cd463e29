import type { SparkMetadata } from '../../packages/spark-format.js';
import { vectorSize, type Vector } from '../../pipeline/frame.js';
import type { StageFactory } from '../../pipeline/stage.js';
import { dotVectors, norm, sqdist } from './linalg.js';
import { failRow, savedBefore } from './stage-helpers.js';
import { vectorFromStruct } from './udt.js';

const ML = 'org.apache.spark.ml.clustering.';

/** Machine epsilon as MLUtils computes it. */
const EPSILON = 2.220446049250313e-16;

export interface Point {
  readonly vector: Vector;
  readonly norm: number;
}

/**
 * MLUtils.fastSquaredDistance: ‖a‖² + ‖b‖² − 2a·b when that is accurate enough, the
 * exact sum of squared differences otherwise.
 */
export function fastSquaredDistance(a: Point, b: Point): number {
  const sumSquaredNorm = a.norm * a.norm + b.norm * b.norm;
  const normDiff = a.norm - b.norm;
  const precisionBound1 = (2.0 * EPSILON * sumSquaredNorm) / (normDiff * normDiff + EPSILON);
  if (precisionBound1 < 1e-6) return sumSquaredNorm - 2.0 * dotVectors(a.vector, b.vector);
  if (!(a.vector instanceof Float64Array) || !(b.vector instanceof Float64Array)) {
    const dot = dotVectors(a.vector, b.vector);
    const sqDist = Math.max(sumSquaredNorm - 2.0 * dot, 0.0);
    const precisionBound2 = (EPSILON * (sumSquaredNorm + 2.0 * Math.abs(dot))) / (sqDist + EPSILON);
    return precisionBound2 > 1e-6 ? sqdist(a.vector, b.vector) : sqDist;
  }
  return sqdist(a.vector, b.vector);
}

export function cosineDistance(a: Point, b: Point): number {
  return 1 - dotVectors(a.vector, b.vector) / a.norm / b.norm;
}

/** Index into the packed upper triangle of a symmetric k×k matrix. */
function triangular(i: number, j: number): number {
  return i <= j ? (j * (j + 1)) / 2 + i : (i * (i + 1)) / 2 + j;
}

type Finder = (centers: readonly Point[], point: Point) => number;

/** Plain search (Spark before 3.1, or too many centers for the bounds): the first strictly closest centre. */
function euclideanPlain(centers: readonly Point[], point: Point): number {
  let best = Infinity;
  let bestIndex = 0;
  for (let i = 0; i < centers.length; i++) {
    const c = centers[i]!;
    const lowerBound = (c.norm - point.norm) * (c.norm - point.norm);
    if (lowerBound < best) {
      const d = fastSquaredDistance(c, point);
      if (d < best) {
        best = d;
        bestIndex = i;
      }
    }
  }
  return bestIndex;
}

function cosinePlain(centers: readonly Point[], point: Point): number {
  let best = Infinity;
  let bestIndex = 0;
  for (let i = 0; i < centers.length; i++) {
    const d = cosineDistance(centers[i]!, point);
    if (d < best) {
      best = d;
      bestIndex = i;
    }
  }
  return bestIndex;
}

/**
 * Spark 3.1+ (SPARK-31007) prunes with bounds derived from the distances between centres
 * (Elkan's triangle inequality); the search order and early returns are replicated so
 * that ties and near-ties resolve as in Spark.
 */
function withStatistics(
  centers: readonly Point[],
  distance: (a: Point, b: Point) => number,
  centerStatistic: (a: Point, b: Point) => number,
  useNormBound: boolean,
): Finder {
  const k = centers.length;
  const stats = new Float64Array((k * (k + 1)) / 2);
  const diag = new Float64Array(k).fill(Infinity);
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      const s = centerStatistic(centers[i]!, centers[j]!);
      stats[triangular(i, j)] = s;
      if (s < diag[i]!) diag[i] = s;
      if (s < diag[j]!) diag[j] = s;
    }
  }
  for (let i = 0; i < k; i++) stats[triangular(i, i)] = k === 1 ? NaN : diag[i]!;
  return (cs, point) => {
    let best = distance(cs[0]!, point);
    if (best < stats[0]!) return 0;
    let bestIndex = 0;
    for (let i = 1; i < k; i++) {
      const c = cs[i]!;
      if (useNormBound && !((c.norm - point.norm) * (c.norm - point.norm) < best)) continue;
      if (!(stats[triangular(i, bestIndex)]! < best)) continue;
      const d = distance(c, point);
      if (d < stats[triangular(i, i)]!) return i;
      if (d < best) {
        best = d;
        bestIndex = i;
      }
    }
    return bestIndex;
  };
}

/**
 * Spark 3.3 (SPARK-36553) keeps the bounds only for k < 1000 and k²·features < 10⁶; 3.1
 * and 3.2 always computed them.
 */
function chooseFinder(metadata: SparkMetadata, measure: string, centers: readonly Point[]): Finder {
  const k = centers.length;
  const numFeatures = centers.length ? vectorSize(centers[0]!.vector) : 0;
  const bounded = !savedBefore(metadata, 3, 1) && (savedBefore(metadata, 3, 3) || (k < 1000 && k * k * numFeatures < 1_000_000));
  if (measure === 'cosine') {
    const halfAngle = (a: Point, b: Point): number => 1 - Math.sqrt(1 - cosineDistance(a, b) / 2);
    return bounded ? withStatistics(centers, cosineDistance, halfAngle, false) : cosinePlain;
  }
  const quarterSquared = (a: Point, b: Point): number => {
    const d = Math.sqrt(fastSquaredDistance(a, b));
    return 0.25 * d * d;
  };
  return bounded ? withStatistics(centers, fastSquaredDistance, quarterSquared, true) : euclideanPlain;
}

function readCenters(rows: Record<string, unknown>[]): Vector[] {
  if (rows.length === 1 && Array.isArray(rows[0]!.clusterCenters)) {
    return (rows[0]!.clusterCenters as unknown[]).map(vectorFromStruct);
  }
  return rows
    .map((r) => ({ idx: Number(r.clusterIdx), center: vectorFromStruct(r.clusterCenter) }))
    .sort((a, b) => a.idx - b.idx)
    .map((r) => r.center);
}

/**
 * KMeansModel: the index of the closest cluster centre (squared Euclidean distance, or
 * cosine distance with distanceMeasure=cosine), written as a double to predictionCol.
 */
const kMeans: StageFactory = async (ctx) => {
  const uid = ctx.metadata.uid;
  const featuresCol = ctx.params.string('featuresCol', 'features');
  const predictionCol = ctx.params.string('predictionCol', 'prediction');
  const measure = ctx.params.string('distanceMeasure', 'euclidean');
  if (measure !== 'euclidean' && measure !== 'cosine') throw new Error(`unknown distanceMeasure "${measure}"`);
  const centers: Point[] = readCenters(await ctx.readData()).map((vector) => ({ vector, norm: norm(vector, 2) }));
  if (centers.length === 0) throw new Error('KMeansModel has no cluster centres in data/');
  const numFeatures = vectorSize(centers[0]!.vector);
  const find = chooseFinder(ctx.metadata, measure, centers);
  return {
    uid,
    className: ctx.metadata.class,
    inputCols: [featuresCol],
    outputCols: [predictionCol],
    modelOutputs: { predictionCol },
    transform(frame) {
      const features = frame.getTyped(featuresCol, 'vector').values;
      const out = new Float64Array(features.length);
      for (let i = 0; i < features.length; i++) {
        const v = features[i];
        if (v == null) {
          failRow(frame, i, `KMeansModel: column "${featuresCol}" is null`, uid);
          continue;
        }
        if (vectorSize(v) !== numFeatures) {
          failRow(frame, i, `KMeansModel: expected a vector of size ${numFeatures}, got ${vectorSize(v)}`, uid);
          continue;
        }
        const point: Point = { vector: v, norm: norm(v, 2) };
        if (measure === 'cosine' && point.norm === 0) {
          failRow(frame, i, 'KMeansModel: cosine distance is not defined for a zero vector', uid);
          continue;
        }
        out[i] = find(centers, point);
      }
      frame.set(predictionCol, { type: 'double', values: out });
    },
  };
};

export const clusteringStages: Record<string, StageFactory> = {
  [ML + 'KMeansModel']: kMeans,
};
