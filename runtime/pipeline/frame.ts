/**
 * A columnar batch of rows flowing through a pipeline. Each column holds one value per
 * live row; `rowIds` maps a live row back to its position in the micro-batch so a row
 * that a stage rejects (handleInvalid=error, a skipped row, a remote failure) can be
 * reported for exactly the record it came from.
 */

/** A sparse vector: strictly increasing indices with their values. */
export interface SparseVector {
  readonly size: number;
  readonly indices: Int32Array;
  readonly values: Float64Array;
}

/** Dense vectors are plain Float64Arrays (their length is their size). */
export type Vector = Float64Array | SparseVector;

export type Column =
  | { readonly type: 'string'; readonly values: (string | null)[] }
  | { readonly type: 'double'; readonly values: Float64Array; readonly nulls?: Uint8Array; readonly sqlType?: NarrowNumber }
  | { readonly type: 'boolean'; readonly values: (boolean | null)[] }
  | { readonly type: 'strings'; readonly values: (string[] | null)[] }
  | { readonly type: 'vector'; readonly size: number; readonly values: (Vector | null)[] }
  /** An array of vectors per row, as the LSH models write their hash column (one vector per hash table). */
  | { readonly type: 'vectors'; readonly values: (Vector[] | null)[] };

export type ColumnType = Column['type'];

/**
 * The Spark SQL type a `double` column stands for when the input schema declared it
 * narrower than DOUBLE. Values are held as doubles all the same; stages that cast a result
 * back to their input's type, as Spark's ImputerModel does, read it.
 */
export type NarrowNumber = 'INTEGER' | 'LONG' | 'FLOAT';

export interface RowRejection {
  /** Position of the record in the micro-batch. */
  readonly row: number;
  readonly code: string;
  readonly message: string;
  readonly stage?: string;
}

export function isSparse(v: Vector): v is SparseVector {
  return !(v instanceof Float64Array);
}

export function vectorSize(v: Vector): number {
  return v instanceof Float64Array ? v.length : v.size;
}

/** Reads element i of a vector (O(log nnz) for sparse). */
export function vectorAt(v: Vector, i: number): number {
  if (v instanceof Float64Array) return v[i] ?? 0;
  let lo = 0;
  let hi = v.indices.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const idx = v.indices[mid]!;
    if (idx === i) return v.values[mid]!;
    if (idx < i) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}

export function toDense(v: Vector): Float64Array {
  if (v instanceof Float64Array) return v;
  const out = new Float64Array(v.size);
  for (let k = 0; k < v.indices.length; k++) out[v.indices[k]!] = v.values[k]!;
  return out;
}

/** Builds a sparse vector from parallel arrays, sorting by index and dropping zeros. */
export function sparseFromPairs(size: number, indices: ArrayLike<number>, values: ArrayLike<number>): SparseVector {
  const n = indices.length;
  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => indices[a]! - indices[b]!);
  const idx = new Int32Array(n);
  const val = new Float64Array(n);
  let m = 0;
  for (const k of order) {
    if (values[k] === 0) continue;
    idx[m] = indices[k]!;
    val[m] = values[k]!;
    m++;
  }
  return { size, indices: idx.slice(0, m), values: val.slice(0, m) };
}

/** Dot product of a vector with a dense weight array. */
export function dot(v: Vector, w: ArrayLike<number>, offset = 0): number {
  let s = 0;
  if (v instanceof Float64Array) {
    for (let i = 0; i < v.length; i++) s += v[i]! * w[offset + i]!;
  } else {
    const { indices, values } = v;
    for (let k = 0; k < indices.length; k++) s += values[k]! * w[offset + indices[k]!]!;
  }
  return s;
}

/** The first index holding the largest value (Spark's DenseVector.argmax); -1 when empty. */
export function argmax(values: ArrayLike<number>): number {
  if (values.length === 0) return -1;
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

export class Frame {
  readonly columns = new Map<string, Column>();
  readonly rejections: RowRejection[] = [];
  private pendingReject: Set<number> | null = null;
  /**
   * Values computed while the records were decoded, by the column a stage would write them
   * to, one slot per row (undefined: compute it). Only the stage that writes the column reads
   * them, and only the first stage can (the serving plan's JSON text path, plan.ts).
   */
  presets: Map<string, (Vector | undefined)[]> | undefined;

  /** rowIds[i] is the micro-batch position of live row i. */
  constructor(public rowIds: Int32Array) {}

  static ofLength(n: number): Frame {
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) ids[i] = i;
    return new Frame(ids);
  }

  get length(): number {
    return this.rowIds.length;
  }

  has(name: string): boolean {
    return this.columns.has(name);
  }

  get(name: string): Column {
    const c = this.columns.get(name);
    if (!c) throw new PipelineError(`column "${name}" does not exist (have: ${[...this.columns.keys()].join(', ')})`);
    return c;
  }

  getTyped<T extends ColumnType>(name: string, type: T): Extract<Column, { type: T }> {
    const c = this.get(name);
    if (c.type !== type) throw new PipelineError(`column "${name}" is ${c.type}, expected ${type}`);
    return c as Extract<Column, { type: T }>;
  }

  set(name: string, column: Column): void {
    if (column.values.length !== this.length) {
      throw new Error(`column "${name}" has ${column.values.length} values for ${this.length} rows`);
    }
    this.columns.set(name, column);
  }

  /** Marks live row i as failed; it is removed at the next compact(). */
  reject(i: number, code: string, message: string, stage?: string): void {
    if (!this.pendingReject) this.pendingReject = new Set();
    if (this.pendingReject.has(i)) return;
    this.pendingReject.add(i);
    this.rejections.push({ row: this.rowIds[i]!, code, message, ...(stage ? { stage } : {}) });
  }

  /** Drops rejected rows from every column. Cheap when nothing was rejected. */
  compact(): void {
    const gone = this.pendingReject;
    if (!gone || gone.size === 0) return;
    this.pendingReject = null;
    const keep: number[] = [];
    for (let i = 0; i < this.length; i++) if (!gone.has(i)) keep.push(i);
    this.rowIds = Int32Array.from(keep, (i) => this.rowIds[i]!);
    for (const [name, col] of this.columns) this.columns.set(name, selectRows(col, keep));
  }
}

function selectRows(col: Column, keep: number[]): Column {
  switch (col.type) {
    case 'double': {
      const values = Float64Array.from(keep, (i) => col.values[i]!);
      return {
        type: 'double',
        values,
        ...(col.nulls ? { nulls: Uint8Array.from(keep, (i) => col.nulls![i]!) } : {}),
        ...(col.sqlType ? { sqlType: col.sqlType } : {}),
      };
    }
    case 'vector':
      return { type: 'vector', size: col.size, values: keep.map((i) => col.values[i]!) };
    case 'string':
      return { type: 'string', values: keep.map((i) => col.values[i]!) };
    case 'boolean':
      return { type: 'boolean', values: keep.map((i) => col.values[i]!) };
    case 'strings':
      return { type: 'strings', values: keep.map((i) => col.values[i]!) };
    case 'vectors':
      return { type: 'vectors', values: keep.map((i) => col.values[i]!) };
  }
}

/** A failure of the pipeline itself (bad wiring, wrong column type): fails the whole batch. */
export class PipelineError extends Error {
  override name = 'PipelineError';
}
