import type { SparseVector, Vector } from '../../pipeline/frame.js';

/**
 * Vector arithmetic done the way Spark's ml.linalg does it, so that results and their
 * storage (dense or sparse) match Spark's bit for bit: sums run in Spark's order.
 */

/**
 * Spark's `Vector.compressed`: a dense vector needs 8·size + 8 bytes, a sparse one
 * 12·nnz + 20, so sparse is chosen when 1.5·(nnz + 1) < size. NaN counts as non-zero.
 * `indices`/`values` hold `count` entries in increasing index order.
 */
export function compressedFromEntries(size: number, indices: Int32Array, values: Float64Array, count: number): Vector {
  let nnz = 0;
  for (let k = 0; k < count; k++) if (values[k] !== 0) nnz++;
  if (1.5 * (nnz + 1) < size) {
    const idx = new Int32Array(nnz);
    const val = new Float64Array(nnz);
    let m = 0;
    for (let k = 0; k < count; k++) {
      if (values[k] === 0) continue;
      idx[m] = indices[k]!;
      val[m++] = values[k]!;
    }
    return { size, indices: idx, values: val };
  }
  const dense = new Float64Array(size);
  for (let k = 0; k < count; k++) dense[indices[k]!] = values[k]!;
  return dense;
}

/** `Vectors.dense(values).compressed`. */
export function compressedFromDense(values: Float64Array): Vector {
  let nnz = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) nnz++;
  if (!(1.5 * (nnz + 1) < values.length)) return values;
  const idx = new Int32Array(nnz);
  const val = new Float64Array(nnz);
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === 0) continue;
    idx[m] = i;
    val[m++] = values[i]!;
  }
  return { size: values.length, indices: idx, values: val };
}

/** The stored values of a vector (all of them for dense, the active ones for sparse). */
function storedValues(v: Vector): Float64Array {
  return v instanceof Float64Array ? v : v.values;
}

/** `Vectors.norm(v, p)`: over the stored values only, with Spark's special cases for 1, 2 and ∞. */
export function norm(v: Vector, p: number): number {
  const values = storedValues(v);
  const n = values.length;
  let sum = 0;
  if (p === 1) {
    for (let i = 0; i < n; i++) sum += Math.abs(values[i]!);
    return sum;
  }
  if (p === 2) {
    for (let i = 0; i < n; i++) sum += values[i]! * values[i]!;
    return Math.sqrt(sum);
  }
  if (p === Infinity) {
    let max = 0;
    for (let i = 0; i < n; i++) {
      const a = Math.abs(values[i]!);
      if (a > max) max = a;
    }
    return max;
  }
  for (let i = 0; i < n; i++) sum += Math.pow(Math.abs(values[i]!), p);
  return Math.pow(sum, 1 / p);
}

/** `BLAS.dot(x, y)` for any mix of dense and sparse vectors of the same size. */
export function dotVectors(x: Vector, y: Vector): number {
  if (x instanceof Float64Array && y instanceof Float64Array) {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
    return s;
  }
  if (x instanceof Float64Array) return dotSparseDense(y as SparseVector, x);
  if (y instanceof Float64Array) return dotSparseDense(x, y);
  let s = 0;
  let kx = 0;
  let ky = 0;
  const nx = x.indices.length;
  const ny = y.indices.length;
  while (kx < nx && ky < ny) {
    const ix = x.indices[kx]!;
    const iy = y.indices[ky]!;
    if (ix === iy) s += x.values[kx++]! * y.values[ky++]!;
    else if (ix < iy) kx++;
    else ky++;
  }
  return s;
}

function dotSparseDense(x: SparseVector, y: Float64Array): number {
  let s = 0;
  for (let k = 0; k < x.indices.length; k++) s += x.values[k]! * y[x.indices[k]!]!;
  return s;
}

/** `Vectors.sqdist(v1, v2)`. */
export function sqdist(v1: Vector, v2: Vector): number {
  if (v1 instanceof Float64Array && v2 instanceof Float64Array) {
    let s = 0;
    for (let i = 0; i < v1.length; i++) {
      const d = v1[i]! - v2[i]!;
      s += d * d;
    }
    return s;
  }
  if (v1 instanceof Float64Array) return sqdistSparseDense(v2 as SparseVector, v1);
  if (v2 instanceof Float64Array) return sqdistSparseDense(v1, v2);
  let s = 0;
  let k1 = 0;
  let k2 = 0;
  const n1 = v1.indices.length;
  const n2 = v2.indices.length;
  while (k1 < n1 || k2 < n2) {
    let score: number;
    if (k2 >= n2 || (k1 < n1 && v1.indices[k1]! < v2.indices[k2]!)) score = v1.values[k1++]!;
    else if (k1 >= n1 || (k2 < n2 && v2.indices[k2]! < v1.indices[k1]!)) score = v2.values[k2++]!;
    else score = v1.values[k1++]! - v2.values[k2++]!;
    s += score * score;
  }
  return s;
}

function sqdistSparseDense(v1: SparseVector, v2: Float64Array): number {
  let s = 0;
  let k = 0;
  const nnz = v1.indices.length;
  for (let i = 0; i < v2.length; i++) {
    let score: number;
    if (k < nnz && v1.indices[k] === i) score = v1.values[k++]! - v2[i]!;
    else score = v2[i]!;
    s += score * score;
  }
  return s;
}

/** Calls f for every stored entry (every element of a dense vector). */
export function forEachActive(v: Vector, f: (index: number, value: number) => void): void {
  if (v instanceof Float64Array) {
    for (let i = 0; i < v.length; i++) f(i, v[i]!);
  } else {
    for (let k = 0; k < v.indices.length; k++) f(v.indices[k]!, v.values[k]!);
  }
}

/** Growable parallel index/value buffers, reused across the rows of a batch. */
export class EntryBuffer {
  indices: Int32Array;
  values: Float64Array;
  count = 0;

  constructor(capacity: number) {
    this.indices = new Int32Array(Math.max(capacity, 8));
    this.values = new Float64Array(Math.max(capacity, 8));
  }

  push(index: number, value: number): void {
    if (this.count === this.indices.length) {
      const indices = new Int32Array(this.count * 2);
      indices.set(this.indices);
      const values = new Float64Array(this.count * 2);
      values.set(this.values);
      this.indices = indices;
      this.values = values;
    }
    this.indices[this.count] = index;
    this.values[this.count++] = value;
  }
}
