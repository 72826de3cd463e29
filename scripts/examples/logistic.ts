import type { SparseVector } from '../../runtime/pipeline/frame.js';

/**
 * Logistic regression training for the example packages. Full-batch, fixed iteration
 * counts and a fixed operation order: the same data gives bit-identical coefficients.
 * Features are scaled by their standard deviation while training (as Spark's
 * `standardization=true` does, without centering) and the coefficients mapped back.
 */

export interface BinaryModel {
  readonly weights: Float64Array;
  readonly intercept: number;
}

export interface MultinomialModel {
  /** numClasses × numFeatures, row-major. */
  readonly weights: Float64Array;
  readonly intercepts: Float64Array;
}

export interface TrainOptions {
  readonly iterations: number;
  readonly learningRate: number;
  /** L2 penalty on the scaled coefficients (Spark's regParam with elasticNetParam 0). */
  readonly regParam: number;
}

/** Adam on a flat parameter vector; moments kept between steps. */
class Adam {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;

  constructor(
    size: number,
    private readonly rate: number,
  ) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  step(params: Float64Array, grad: Float64Array): void {
    this.t++;
    const c1 = 1 - 0.9 ** this.t;
    const c2 = 1 - 0.999 ** this.t;
    for (let j = 0; j < params.length; j++) {
      const g = grad[j]!;
      if (g === 0 && this.m[j] === 0) continue;
      this.m[j] = 0.9 * this.m[j]! + 0.1 * g;
      this.v[j] = 0.999 * this.v[j]! + 0.001 * g * g;
      params[j] = params[j]! - (this.rate * (this.m[j]! / c1)) / (Math.sqrt(this.v[j]! / c2) + 1e-8);
    }
  }
}

/** Population standard deviation of each feature over sparse rows (0 for constant features). */
function sparseStd(xs: readonly SparseVector[], numFeatures: number): Float64Array {
  const sum = new Float64Array(numFeatures);
  const sq = new Float64Array(numFeatures);
  for (const x of xs) {
    for (let k = 0; k < x.indices.length; k++) {
      const j = x.indices[k]!;
      sum[j] = sum[j]! + x.values[k]!;
      sq[j] = sq[j]! + x.values[k]! * x.values[k]!;
    }
  }
  const n = xs.length;
  const std = new Float64Array(numFeatures);
  for (let j = 0; j < numFeatures; j++) {
    const mean = sum[j]! / n;
    const variance = sq[j]! / n - mean * mean;
    std[j] = variance > 0 ? Math.sqrt(variance) : 0;
  }
  return std;
}

const sigmoid = (m: number): number => 1 / (1 + Math.exp(-m));

/** Binary logistic regression on sparse rows (labels 0/1). */
export function trainBinary(xs: readonly SparseVector[], ys: ArrayLike<number>, numFeatures: number, o: TrainOptions): BinaryModel {
  const std = sparseStd(xs, numFeatures);
  const inv = std.map((s) => (s > 0 ? 1 / s : 0));
  // params[0..F) are the scaled coefficients, params[F] the intercept.
  const params = new Float64Array(numFeatures + 1);
  const grad = new Float64Array(numFeatures + 1);
  const adam = new Adam(numFeatures + 1, o.learningRate);
  const n = xs.length;
  for (let it = 0; it < o.iterations; it++) {
    grad.fill(0);
    for (let r = 0; r < n; r++) {
      const x = xs[r]!;
      let m = params[numFeatures]!;
      for (let k = 0; k < x.indices.length; k++) m += params[x.indices[k]!]! * x.values[k]! * inv[x.indices[k]!]!;
      const err = (sigmoid(m) - ys[r]!) / n;
      for (let k = 0; k < x.indices.length; k++) grad[x.indices[k]!] = grad[x.indices[k]!]! + err * x.values[k]! * inv[x.indices[k]!]!;
      grad[numFeatures] = grad[numFeatures]! + err;
    }
    for (let j = 0; j < numFeatures; j++) if (params[j] !== 0 || grad[j] !== 0) grad[j] = grad[j]! + o.regParam * params[j]!;
    adam.step(params, grad);
  }
  const weights = new Float64Array(numFeatures);
  for (let j = 0; j < numFeatures; j++) weights[j] = params[j]! * inv[j]!;
  return { weights, intercept: params[numFeatures]! };
}

/** Multinomial logistic regression (softmax) on dense rows, labels 0..numClasses-1. */
export function trainMultinomial(xs: readonly Float64Array[], ys: ArrayLike<number>, numClasses: number, o: TrainOptions): MultinomialModel {
  const f = xs[0]!.length;
  const n = xs.length;
  const mean = new Float64Array(f);
  const std = new Float64Array(f);
  for (const x of xs) for (let j = 0; j < f; j++) mean[j] = mean[j]! + x[j]! / n;
  for (const x of xs) for (let j = 0; j < f; j++) std[j] = std[j]! + (x[j]! - mean[j]!) ** 2 / n;
  for (let j = 0; j < f; j++) std[j] = Math.sqrt(std[j]!);
  // Centered and scaled while training; folded back into plain coefficients at the end.
  const scaled = xs.map((x) => x.map((v, j) => (std[j]! > 0 ? (v - mean[j]!) / std[j]! : 0)));
  const stride = f + 1;
  const params = new Float64Array(numClasses * stride);
  const grad = new Float64Array(numClasses * stride);
  const adam = new Adam(params.length, o.learningRate);
  const p = new Float64Array(numClasses);
  for (let it = 0; it < o.iterations; it++) {
    grad.fill(0);
    for (let r = 0; r < n; r++) {
      const x = scaled[r]!;
      let max = -Infinity;
      for (let c = 0; c < numClasses; c++) {
        let m = params[c * stride + f]!;
        for (let j = 0; j < f; j++) m += params[c * stride + j]! * x[j]!;
        p[c] = m;
        max = Math.max(max, m);
      }
      let z = 0;
      for (let c = 0; c < numClasses; c++) z += (p[c] = Math.exp(p[c]! - max));
      for (let c = 0; c < numClasses; c++) {
        const err = (p[c]! / z - (ys[r] === c ? 1 : 0)) / n;
        for (let j = 0; j < f; j++) grad[c * stride + j] = grad[c * stride + j]! + err * x[j]!;
        grad[c * stride + f] = grad[c * stride + f]! + err;
      }
    }
    for (let c = 0; c < numClasses; c++) for (let j = 0; j < f; j++) grad[c * stride + j] = grad[c * stride + j]! + o.regParam * params[c * stride + j]!;
    adam.step(params, grad);
  }
  const weights = new Float64Array(numClasses * f);
  const intercepts = new Float64Array(numClasses);
  for (let c = 0; c < numClasses; c++) {
    let b = params[c * stride + f]!;
    for (let j = 0; j < f; j++) {
      const w = std[j]! > 0 ? params[c * stride + j]! / std[j]! : 0;
      weights[c * f + j] = w;
      b -= w * mean[j]!;
    }
    intercepts[c] = b;
  }
  return { weights, intercepts };
}
