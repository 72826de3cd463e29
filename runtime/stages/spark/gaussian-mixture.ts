/**
 * GaussianMixtureModel: each component's weighted density at the point, normalized into
 * the probability vector; the prediction is its argmax. Data: `weights` array<double>,
 * `mus` array of vectors, `sigmas` array of matrices (mllib's UDTs, the same structs).
 *
 * The density follows ml's MultivariateGaussian: from the eigendecomposition Σ = U D Uᵀ,
 * eigenvalues at or below ε·max(d)·n are dropped (pseudo-determinant and pseudo-inverse,
 * so a singular covariance still has a density), logpdf = u − ½‖D^−½ Uᵀ (μ − x)‖², and
 * p_i = ε + w_i·pdf_i before normalizing, so a point far from every component still gets
 * probabilities. Spark decomposes with LAPACK; the cyclic Jacobi method here agrees to
 * rounding, not bit for bit.
 */
import { toDense, vectorSize } from '../../pipeline/frame.js';
import type { StageFactory } from '../../pipeline/stage.js';
import { failRow } from './stage-helpers.js';
import { matrixFromStruct, vectorFromStruct } from './udt.js';

const ML = 'org.apache.spark.ml.clustering.';

/** Machine epsilon as Spark's ml.impl.Utils computes it. */
const EPSILON = 2.220446049250313e-16;

/** Eigenvalues and eigenvectors (columns of a row-major n×n array) of a symmetric matrix. */
function symmetricEigen(matrix: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! * a[p * n + q]!;
    if (off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => a[i * n + i]!), vectors: v };
}

interface Component {
  readonly weight: number;
  readonly mean: Float64Array;
  /** D^−½ Uᵀ, row-major (rows of dropped eigenvalues are zero). */
  readonly rootSigmaInv: Float64Array;
  /** −½ (n log 2π + log pseudo-det Σ). */
  readonly u: number;
}

function component(weight: number, mean: Float64Array, sigma: Float64Array, n: number): Component {
  const { values: d, vectors: u } = symmetricEigen(sigma, n);
  const tol = EPSILON * Math.max(...d) * n;
  const kept = [...d].filter((x) => x > tol);
  if (kept.length === 0) throw new Error('a covariance matrix has no non-zero singular values');
  const logPseudoDet = kept.reduce((s, x) => s + Math.log(x), 0);
  const rootSigmaInv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const scale = d[i]! > tol ? Math.sqrt(1.0 / d[i]!) : 0;
    for (let j = 0; j < n; j++) rootSigmaInv[i * n + j] = scale * u[j * n + i]!;
  }
  return { weight, mean, rootSigmaInv, u: -0.5 * (n * Math.log(2.0 * Math.PI) + logPseudoDet) };
}

function logpdf(c: Component, x: Float64Array, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let vi = 0;
    for (let j = 0; j < n; j++) vi += c.rootSigmaInv[i * n + j]! * (c.mean[j]! - x[j]!);
    sum += vi * vi;
  }
  return c.u - 0.5 * sum;
}

function readComponents(row: Record<string, unknown>): { components: Component[]; n: number } {
  const weights = row.weights as number[] | undefined;
  const mus = row.mus as unknown[] | undefined;
  const sigmas = row.sigmas as unknown[] | undefined;
  if (!Array.isArray(weights) || !Array.isArray(mus) || !Array.isArray(sigmas)) throw new Error('data/ needs weights, mus and sigmas arrays');
  if (mus.length !== sigmas.length || mus.length !== weights.length) throw new Error('weights, mus and sigmas differ in length');
  if (weights.length === 0) throw new Error('the mixture has no components');
  const means = mus.map((m) => toDense(vectorFromStruct(m)));
  const n = means[0]!.length;
  const components = means.map((mean, i) => {
    const sigma = matrixFromStruct(sigmas[i]);
    if (mean.length !== n || sigma.numRows !== n || sigma.numCols !== n) throw new Error(`component ${i} is not of dimension ${n}`);
    return component(Number(weights[i]), mean, sigma.values, n);
  });
  return { components, n };
}

const gaussianMixture: StageFactory = async (ctx) => {
  const uid = ctx.metadata.uid;
  const rows = await ctx.readData();
  if (rows.length !== 1) throw new Error(`data/ holds ${rows.length} rows, expected 1`);
  const { components, n } = readComponents(rows[0]!);
  const k = components.length;
  const featuresCol = ctx.params.string('featuresCol', 'features');
  const predictionCol = ctx.params.string('predictionCol', 'prediction');
  const probabilityCol = ctx.params.string('probabilityCol', 'probability');
  return {
    uid,
    className: ctx.metadata.class,
    inputCols: [featuresCol],
    outputCols: [predictionCol, probabilityCol].filter((c) => c !== ''),
    ...(predictionCol ? { modelOutputs: { predictionCol, ...(probabilityCol ? { probabilityCol } : {}), numClasses: k } } : {}),
    transform(frame) {
      const features = frame.getTyped(featuresCol, 'vector').values;
      const predictions = new Float64Array(frame.length);
      const probabilities = new Array<Float64Array | null>(frame.length).fill(null);
      for (let i = 0; i < frame.length; i++) {
        const v = features[i];
        if (!v) {
          failRow(frame, i, `GaussianMixtureModel: features column "${featuresCol}" is null`, uid);
          continue;
        }
        if (vectorSize(v) !== n) {
          failRow(frame, i, `GaussianMixtureModel: features vector has size ${vectorSize(v)}, the model expects ${n}`, uid);
          continue;
        }
        const x = toDense(v);
        const p = new Float64Array(k);
        let sum = 0;
        for (let c = 0; c < k; c++) {
          p[c] = EPSILON + components[c]!.weight * Math.exp(logpdf(components[c]!, x, n));
          sum += p[c]!;
        }
        let best = 0;
        for (let c = 0; c < k; c++) {
          p[c]! /= sum;
          if (p[c]! > p[best]!) best = c;
        }
        probabilities[i] = p;
        predictions[i] = best;
      }
      if (probabilityCol) frame.set(probabilityCol, { type: 'vector', size: k, values: probabilities });
      if (predictionCol) frame.set(predictionCol, { type: 'double', values: predictions });
    },
  };
};

export const gaussianMixtureStages: Record<string, StageFactory> = {
  [ML + 'GaussianMixtureModel']: gaussianMixture,
};
