import type { SparseVector, Vector } from '../../pipeline/frame.js';

/**
 * Spark stores ml.linalg Vector and Matrix values in parquet as structs (VectorUDT,
 * MatrixUDT): `type` 0 = sparse, 1 = dense.
 */
interface VectorStruct {
  type: number;
  size?: number | null;
  indices?: number[] | null;
  values: number[];
}

interface MatrixStruct {
  type: number;
  numRows: number;
  numCols: number;
  colPtrs?: number[] | null;
  rowIndices?: number[] | null;
  values: number[];
  isTransposed: boolean;
}

export function vectorFromStruct(v: unknown): Vector {
  const s = v as VectorStruct;
  if (!s || typeof s !== 'object' || !Array.isArray(s.values)) throw new Error('not a Vector struct');
  if (Number(s.type) === 1) return Float64Array.from(s.values, Number);
  const sparse: SparseVector = {
    size: Number(s.size),
    indices: Int32Array.from(s.indices ?? [], Number),
    values: Float64Array.from(s.values, Number),
  };
  return sparse;
}

export function denseFromStruct(v: unknown): Float64Array {
  const vec = vectorFromStruct(v);
  if (vec instanceof Float64Array) return vec;
  const out = new Float64Array(vec.size);
  for (let k = 0; k < vec.indices.length; k++) out[vec.indices[k]!] = vec.values[k]!;
  return out;
}

/** Matrices are expanded to dense arrays; larger ones (over 1 GiB) are refused, not allocated. */
export const MAX_DENSE_MATRIX_CELLS = 2 ** 27;

/** A matrix as a dense row-major array. */
export interface DenseMatrix {
  readonly numRows: number;
  readonly numCols: number;
  readonly values: Float64Array;
}

/**
 * Dense matrices are column-major, or row-major when isTransposed. Sparse ones are CSC,
 * or CSR when isTransposed (colPtrs then point at rows and rowIndices hold columns).
 */
export function matrixFromStruct(m: unknown): DenseMatrix {
  const s = m as MatrixStruct;
  const numRows = Number(s.numRows);
  const numCols = Number(s.numCols);
  if (!(numRows >= 0 && numCols >= 0) || numRows * numCols > MAX_DENSE_MATRIX_CELLS) {
    throw new Error(`a ${numRows}×${numCols} matrix is over the ${MAX_DENSE_MATRIX_CELLS}-cell limit`);
  }
  const out = new Float64Array(numRows * numCols);
  const vals = s.values.map(Number);
  if (Number(s.type) === 1) {
    for (let r = 0; r < numRows; r++) {
      for (let c = 0; c < numCols; c++) {
        out[r * numCols + c] = s.isTransposed ? vals[r * numCols + c]! : vals[c * numRows + r]!;
      }
    }
  } else {
    const ptrs = (s.colPtrs ?? []).map(Number);
    const idx = (s.rowIndices ?? []).map(Number);
    const outer = s.isTransposed ? numRows : numCols;
    for (let o = 0; o < outer; o++) {
      for (let k = ptrs[o]!; k < ptrs[o + 1]!; k++) {
        const r = s.isTransposed ? o : idx[k]!;
        const c = s.isTransposed ? idx[k]! : o;
        out[r * numCols + c] = vals[k]!;
      }
    }
  }
  return { numRows, numCols, values: out };
}
