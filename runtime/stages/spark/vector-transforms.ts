import { toDense, vectorSize } from '../../pipeline/frame.js';
import type { StageFactory } from '../../pipeline/stage.js';
import { defaultOutputCol } from './common.js';
import { vectorMapStage } from './stage-helpers.js';
import { vectorFromStruct } from './udt.js';

/**
 * The fitted-state-free vector transformers: DCT, ElementwiseProduct and
 * PolynomialExpansion. Each maps one vector column to another row by row, with its whole
 * configuration in the stage's params (no `data/`), so one function of the params and the
 * row is all there is to get right; the term order and the sparse/dense shape of the
 * output follow Spark's, since later stages (a model's coefficients) index into them.
 */

const ML = 'org.apache.spark.ml.feature.';

/** Cosine tables kept per vector size; a batch of odd sizes cannot grow memory past this many. */
const MAX_DCT_TABLES = 16;

/**
 * DCT: Spark runs JTransforms' DoubleDCT_1D with scaling, i.e. the orthonormal DCT-II
 * (`inverse=false`) or its inverse, the orthonormal DCT-III (`inverse=true`), on the vector
 * made dense; the output is dense. Computed here directly from the definition (the FFT
 * route JTransforms takes differs from it in the last bits only), in O(n²) per row. Every
 * cosine needed, cos(π(2i+1)k / 2n), is one of the 4n values cos(πm / 2n), m = (2i+1)k
 * mod 4n, so one table of 4n entries per size serves them all.
 */
const dct: StageFactory = (ctx) => {
  const input = ctx.params.string('inputCol');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  const inverse = ctx.params.boolean('inverse', false);
  const tables = new Map<number, Float64Array>();
  const tableFor = (n: number): Float64Array => {
    let t = tables.get(n);
    if (!t) {
      if (tables.size >= MAX_DCT_TABLES) tables.clear();
      t = Float64Array.from({ length: 4 * n }, (_, m) => Math.cos((Math.PI * m) / (2 * n)));
      tables.set(n, t);
    }
    return t;
  };
  return vectorMapStage(ctx, input, output, null, (v) => {
    const n = vectorSize(v);
    if (n === 0) return 'cannot transform an empty vector';
    const x = toDense(v);
    const cos = tableFor(n);
    const period = 4 * n;
    const first = Math.sqrt(1 / n);
    const rest = Math.sqrt(2 / n);
    const out = new Float64Array(n);
    if (inverse) {
      for (let i = 0; i < n; i++) {
        let sum = first * x[0]!;
        for (let k = 1; k < n; k++) sum += rest * x[k]! * cos[((2 * i + 1) * k) % period]!;
        out[i] = sum;
      }
    } else {
      for (let k = 0; k < n; k++) {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += x[i]! * cos[((2 * i + 1) * k) % period]!;
        out[k] = (k === 0 ? first : rest) * sum;
      }
    }
    return out;
  });
};

/**
 * ElementwiseProduct: multiplies by `scalingVec` (a vector param, saved as Spark's vector
 * JSON). A dense input stays dense; a sparse one keeps its indices, explicit zeros
 * included. A vector of another size fails its row with Spark's message.
 */
const elementwiseProduct: StageFactory = (ctx) => {
  const input = ctx.params.string('inputCol');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  if (!ctx.params.has('scalingVec')) throw new Error('transformation requires a weight vector (param "scalingVec" is missing)');
  const scaling = toDense(vectorFromStruct(ctx.params.raw('scalingVec')));
  const n = scaling.length;
  return vectorMapStage(ctx, input, output, n, (v) => {
    if (vectorSize(v) !== n) return `vector sizes do not match: Expected ${n} but found ${vectorSize(v)}`;
    if (v instanceof Float64Array) return v.map((x, i) => x * scaling[i]!);
    return { size: v.size, indices: v.indices, values: v.values.map((x, k) => x * scaling[v.indices[k]!]!) };
  });
};

/**
 * Output terms per row at most (128 MiB dense). Spark's own bound is Int.MaxValue; a row
 * whose expansion is larger fails rather than exhausting the process's memory.
 */
const MAX_POLY_TERMS = 2 ** 24;

/**
 * PolynomialExpansion: every monomial of total degree 1..degree, in Spark's order (the
 * recursion over the last feature's power, from 0 up, with the lower features expanded
 * inside it), so `[x, y]` at degree 2 gives `[x, x², y, xy, y²]`. Dense in, dense out;
 * sparse in, sparse out with only the monomials whose factors are all stored. A zero
 * factor prunes its branch, as in Spark, so NaN·0 terms stay 0.
 */
const polynomialExpansion: StageFactory = (ctx) => {
  const input = ctx.params.string('inputCol');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  const degree = ctx.params.number('degree', 2);
  if (!Number.isInteger(degree) || degree < 1) throw new Error(`degree must be an integer of at least 1, got ${degree}`);
  const sizes = new PolySizes(degree);
  return vectorMapStage(ctx, input, output, (n) => sizes.get(n, degree) - 1, (v) => {
    const n = vectorSize(v);
    const outSize = sizes.get(n, degree) - 1;
    if (!(outSize <= MAX_POLY_TERMS)) return `the expansion of ${n} features to degree ${degree} has ${outSize} terms, over the ${MAX_POLY_TERMS} this runtime expands per row`;
    if (v instanceof Float64Array) {
      const out = new Float64Array(outSize);
      expandDense(v, n - 1, degree, 1, out, -1, sizes);
      return out;
    }
    const indices: number[] = [];
    const values: number[] = [];
    expandSparse(v.indices, v.values, v.indices.length - 1, n - 1, degree, 1, indices, values, -1, sizes);
    return { size: outSize, indices: Int32Array.from(indices), values: Float64Array.from(values) };
  });
};

/** C(n + d, d), the number of monomials of degree ≤ d in n variables (the constant included), memoised. */
class PolySizes {
  private readonly memo = new Map<number, number>();
  constructor(private readonly maxDegree: number) {}

  get(n: number, d: number): number {
    const key = n * (this.maxDegree + 1) + d;
    let r = this.memo.get(key);
    if (r === undefined) {
      r = 1;
      // C(n+k, k) = C(n+k-1, k-1)·(n+k)/k stays an integer at every step.
      for (let k = 1; k <= d; k++) r = (r * (n + k)) / k;
      this.memo.set(key, r);
    }
    return r;
  }
}

/** Writes the monomials of features 0..lastIdx into out, from position curPolyIdx + 1; returns where the next block starts. */
function expandDense(values: Float64Array, lastIdx: number, degree: number, multiplier: number, out: Float64Array, curPolyIdx: number, sizes: PolySizes): number {
  if (multiplier !== 0) {
    if (degree === 0 || lastIdx < 0) {
      // Position -1 is the constant term, which the output leaves out.
      if (curPolyIdx >= 0) out[curPolyIdx] = multiplier;
    } else {
      const v = values[lastIdx]!;
      let alpha = multiplier;
      let start = curPolyIdx;
      for (let i = 0; i <= degree && alpha !== 0; i++) {
        start = expandDense(values, lastIdx - 1, degree - i, alpha, out, start, sizes);
        alpha *= v;
      }
    }
  }
  return curPolyIdx + sizes.get(lastIdx + 1, degree);
}

/** The sparse counterpart: only stored entries are expanded; positions still count every feature up to lastFeatureIdx. */
function expandSparse(
  indices: Int32Array,
  values: Float64Array,
  lastIdx: number,
  lastFeatureIdx: number,
  degree: number,
  multiplier: number,
  outIndices: number[],
  outValues: number[],
  curPolyIdx: number,
  sizes: PolySizes,
): number {
  if (multiplier !== 0) {
    if (degree === 0 || lastIdx < 0) {
      if (curPolyIdx >= 0) {
        outIndices.push(curPolyIdx);
        outValues.push(multiplier);
      }
    } else {
      const v = values[lastIdx]!;
      const previousFeature = indices[lastIdx]! - 1;
      let alpha = multiplier;
      let start = curPolyIdx;
      for (let i = 0; i <= degree && alpha !== 0; i++) {
        start = expandSparse(indices, values, lastIdx - 1, previousFeature, degree - i, alpha, outIndices, outValues, start, sizes);
        alpha *= v;
      }
    }
  }
  return curPolyIdx + sizes.get(lastFeatureIdx + 1, degree);
}

export const vectorTransformStages: Record<string, StageFactory> = {
  [ML + 'DCT']: dct,
  [ML + 'ElementwiseProduct']: elementwiseProduct,
  [ML + 'PolynomialExpansion']: polynomialExpansion,
};
