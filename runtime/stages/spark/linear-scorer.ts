import type { Vector } from '../../pipeline/frame.js';

/**
 * How Spark's BLAS adds up `A·x + b`: a row-major matrix (and BLAS.dot) sums the products of
 * a row in feature order and adds the intercept last; a column-major sparse matrix, or a
 * dense column-major one times a dense vector, accumulates column by column into the
 * intercept. The two differ in the last bits, which can flip a prediction at a threshold.
 */
export type Accumulation = 'dotThenIntercept' | 'fromIntercept';

/**
 * `A·x + b` for all outputs at once (one output for binomial / SVC / regression, one per
 * class for multinomial models). Weights are stored feature-major, only those Spark stores,
 * so a sparse feature vector touches just its own non-zeros and a sparse model costs its
 * non-zeros; per output the products are still added in feature order, as Spark does.
 */
export class LinearScorer {
  private readonly scratch: Float64Array;

  constructor(
    readonly numOutputs: number,
    readonly numFeatures: number,
    private readonly ptr: Int32Array,
    private readonly output: Int32Array,
    private readonly weight: Float64Array,
    readonly intercepts: Float64Array,
    private readonly denseOrder: Accumulation,
    private readonly sparseOrder: Accumulation,
  ) {
    this.scratch = new Float64Array(numOutputs);
  }

  score(x: Vector, y: Float64Array): void {
    const dense = x instanceof Float64Array;
    const order = dense ? this.denseOrder : this.sparseOrder;
    if (order === 'fromIntercept') y.set(this.intercepts);
    else y.fill(0);
    const { ptr, output, weight } = this;
    if (dense) {
      for (let j = 0; j < x.length; j++) {
        const xj = x[j]!;
        for (let e = ptr[j]!; e < ptr[j + 1]!; e++) y[output[e]!]! += weight[e]! * xj;
      }
    } else {
      const { indices, values } = x;
      for (let k = 0; k < indices.length; k++) {
        const j = indices[k]!;
        const xj = values[k]!;
        for (let e = ptr[j]!; e < ptr[j + 1]!; e++) y[output[e]!]! += weight[e]! * xj;
      }
    }
    if (order === 'dotThenIntercept') for (let r = 0; r < y.length; r++) y[r]! += this.intercepts[r]!;
  }

  /** The single output of a one-row model. */
  score1(x: Vector): number {
    this.score(x, this.scratch);
    return this.scratch[0]!;
  }
}

interface Entries {
  readonly rows: number[];
  readonly cols: number[];
  readonly values: number[];
}

function build(numRows: number, numCols: number, e: Entries, intercepts: Float64Array, dense: Accumulation, sparse: Accumulation): LinearScorer {
  if (intercepts.length !== numRows) throw new Error(`${intercepts.length} intercepts for a ${numRows}-row coefficient matrix`);
  const ptr = new Int32Array(numCols + 1);
  for (const c of e.cols) {
    if (!(c >= 0 && c < numCols)) throw new Error(`coefficient index ${c} is outside 0..${numCols - 1}`);
    ptr[c + 1]!++;
  }
  for (let c = 0; c < numCols; c++) ptr[c + 1]! += ptr[c]!;
  const next = ptr.slice(0, numCols);
  const output = new Int32Array(e.cols.length);
  const weight = new Float64Array(e.cols.length);
  for (let k = 0; k < e.cols.length; k++) {
    const slot = next[e.cols[k]!]!++;
    output[slot] = e.rows[k]!;
    weight[slot] = e.values[k]!;
  }
  return new LinearScorer(numRows, numCols, ptr, output, weight, intercepts, dense, sparse);
}

interface MatrixStruct {
  type: number;
  numRows: number;
  numCols: number;
  colPtrs?: ArrayLike<unknown> | null;
  rowIndices?: ArrayLike<unknown> | null;
  values: ArrayLike<unknown>;
  isTransposed: boolean;
}

export interface MatrixOptions {
  /** Applied to every stored value, like Spark's Matrix.map (implicit zeros stay zero). */
  readonly map?: (v: number) => number;
  /** Overrides the summation order (for models that add the intercept themselves). */
  readonly order?: Accumulation;
}

/** A scorer from Spark's MatrixUDT struct (one row per output) and the intercepts. */
export function scorerFromMatrix(struct: unknown, intercepts: Float64Array, opts: MatrixOptions = {}): LinearScorer {
  const s = struct as MatrixStruct;
  if (!s || typeof s !== 'object' || !s.values) throw new Error('not a Matrix struct');
  const numRows = Number(s.numRows);
  const numCols = Number(s.numCols);
  const values = Array.from(s.values, (v) => (opts.map ? opts.map(Number(v)) : Number(v)));
  const e: Entries = { rows: [], cols: [], values };
  const denseType = Number(s.type) === 1;
  if (denseType) {
    for (let k = 0; k < values.length; k++) {
      e.rows.push(s.isTransposed ? Math.floor(k / numCols) : k % numRows);
      e.cols.push(s.isTransposed ? k % numCols : Math.floor(k / numRows));
    }
  } else {
    const ptrs = Array.from(s.colPtrs ?? [], Number);
    const idx = Array.from(s.rowIndices ?? [], Number);
    const outer = s.isTransposed ? numRows : numCols;
    for (let o = 0; o < outer; o++) {
      for (let k = ptrs[o]!; k < ptrs[o + 1]!; k++) {
        e.rows.push(s.isTransposed ? o : idx[k]!);
        e.cols.push(s.isTransposed ? idx[k]! : o);
      }
    }
  }
  let dense: Accumulation;
  let sparse: Accumulation;
  if (s.isTransposed) [dense, sparse] = ['dotThenIntercept', 'dotThenIntercept'];
  else if (denseType) [dense, sparse] = ['fromIntercept', 'dotThenIntercept'];
  else [dense, sparse] = ['fromIntercept', 'fromIntercept'];
  if (opts.order) [dense, sparse] = [opts.order, opts.order];
  return build(numRows, numCols, e, intercepts, dense, sparse);
}

/** A one-output scorer for `BLAS.dot(features, coefficients) + intercept`. */
export function scorerFromVector(coefficients: Vector, intercept: number): LinearScorer {
  const e: Entries = { rows: [], cols: [], values: [] };
  let size: number;
  if (coefficients instanceof Float64Array) {
    size = coefficients.length;
    coefficients.forEach((v, j) => {
      e.rows.push(0);
      e.cols.push(j);
      e.values.push(v);
    });
  } else {
    size = coefficients.size;
    coefficients.indices.forEach((j, k) => {
      e.rows.push(0);
      e.cols.push(j);
      e.values.push(coefficients.values[k]!);
    });
  }
  return build(1, size, e, Float64Array.of(intercept), 'dotThenIntercept', 'dotThenIntercept');
}
