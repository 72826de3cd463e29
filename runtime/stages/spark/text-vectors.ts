import { ErrorCodes } from '../../errors.js';
import { TypedArena } from '../../pipeline/arena.js';
import type { Frame, SparseVector, Vector } from '../../pipeline/frame.js';
import type { Stage, StageContext, StageFactory } from '../../pipeline/stage.js';
import { defaultOutputCol } from './common.js';
import { denseFromStruct } from './udt.js';
import { vectorMapStage } from './stage-helpers.js';
import { declareTextPart } from './text-parts.js';

const ML = 'org.apache.spark.ml.feature.';

/**
 * Spark's UDFs throw on a null input, failing the whole job; here only that row fails,
 * with the reason.
 */
export function rejectNull(frame: Frame, i: number, stage: Pick<Stage, 'uid' | 'className'>, column: string): void {
  const name = stage.className.slice(stage.className.lastIndexOf('.') + 1);
  frame.reject(i, ErrorCodes.PIPELINE_ERROR, `${name} cannot process a null value in column "${column}"`, stage.uid);
}

/** Vector sizes up to this count terms in a dense array (4 MiB at most); larger ones sort. */
const DENSE_COUNTS_LIMIT = 1 << 20;

/**
 * Term counts of one row, keyed by vector index; reused from row to row, so counting
 * allocates nothing per token. Up to DENSE_COUNTS_LIMIT, counts live in an array indexed by
 * vector index, and a two-level bitmap of the indices seen gives them back in ascending order
 * (a bit per index, and a bit per non-zero word of those); beyond the limit every index is
 * kept and the sorted run lengths are the counts. The bitmap replaces sorting the distinct
 * indices: TypedArray sort took about 6 µs for the ~250 distinct terms of a 2.6 kB mail, the
 * walk well under one.
 */
export class TermCounts {
  private readonly dense: Int32Array | undefined;
  /** Dense: bit i of word i >>> 5 is set once index i is counted. */
  private readonly words: Int32Array;
  /** Dense: bit w of summary word w >>> 5 is set once `words[w]` is non-zero. */
  private readonly summary: Int32Array;
  /** Sorting: every index seen. Dense: the distinct indices, written in order by `take`. */
  private seen: Int32Array = new Int32Array(1024);
  /** Sorting: how many indices `seen` holds. Dense: how many adds since the last take (at least the distinct indices). */
  private n = 0;

  constructor(size: number) {
    this.dense = size <= DENSE_COUNTS_LIMIT ? new Int32Array(size) : undefined;
    this.words = new Int32Array(this.dense ? (size + 31) >>> 5 : 0);
    this.summary = new Int32Array((this.words.length + 31) >>> 5);
  }

  add(index: number): void {
    const dense = this.dense;
    if (dense) {
      // Without branches: whether the index is new is a coin toss the CPU would often mispredict.
      dense[index]!++;
      const w = index >>> 5;
      this.words[w]! |= 1 << (index & 31);
      this.summary[w >>> 5]! |= 1 << (w & 31);
      this.n++;
      return;
    }
    if (this.n === this.seen.length) this.seen = grow(this.seen, this.n * 2);
    this.seen[this.n++] = index;
  }

  /**
   * The dense arrays, for a loop that counts into them itself as `add` does (the C token
   * loop, native/text-loop.c) and then reports its adds (`added`); undefined beyond the
   * dense limit.
   */
  denseArrays(): { readonly dense: Int32Array; readonly words: Int32Array; readonly summary: Int32Array } | undefined {
    return this.dense ? { dense: this.dense, words: this.words, summary: this.summary } : undefined;
  }

  /** Notes `times` adds made straight into the dense arrays. */
  added(times: number): void {
    this.n += times;
  }

  /** Adds since the last take. */
  get adds(): number {
    return this.n;
  }

  /** Notes that the dense arrays were read and cleared elsewhere (the C loop's `take`). */
  takenElsewhere(): void {
    this.n = 0;
  }

  /** `add(index)` `times` times over. */
  addTimes(index: number, times: number): void {
    const dense = this.dense;
    if (dense) {
      dense[index]! += times;
      const w = index >>> 5;
      this.words[w]! |= 1 << (index & 31);
      this.summary[w >>> 5]! |= 1 << (w & 31);
      this.n += times;
      return;
    }
    for (let k = 0; k < times; k++) this.add(index);
  }

  /** The counts at or above minCount as a sparse vector (indices ascending), then clears. */
  take(arena: TypedArena, size: number, minCount = 0, binary = false): SparseVector {
    const dense = this.dense;
    const sorted = dense ? this.ascendingDistinct() : this.seen.subarray(0, this.n).sort();
    this.n = 0;
    // Each distinct index once with its count: from the dense array, or as a run of equal indices.
    // Every count is at least 1: with minCount ≤ 1 every distinct index is kept, uncounted.
    const all = minCount <= 1 && dense !== undefined;
    let kept = all ? sorted.length : 0;
    for (let k = 0; k < sorted.length && !all; ) {
      const start = k++;
      if (!dense) while (k < sorted.length && sorted[k] === sorted[start]) k++;
      if ((dense ? dense[sorted[start]!]! : k - start) >= minCount) kept++;
    }
    const indices = arena.int32(kept);
    const values = arena.float64(kept);
    let m = 0;
    for (let k = 0; k < sorted.length; ) {
      const start = k++;
      if (!dense) while (k < sorted.length && sorted[k] === sorted[start]) k++;
      const index = sorted[start]!;
      const count = dense ? dense[index]! : k - start;
      if (dense) dense[index] = 0;
      if (count < minCount) continue;
      indices[m] = index;
      values[m++] = binary ? 1 : count;
    }
    return { size, indices, values };
  }

  /** Dense mode: the distinct indices counted, ascending, from the bitmap (which it clears). */
  private ascendingDistinct(): Int32Array {
    if (this.seen.length < this.n) this.seen = grow(this.seen, this.n);
    const out = this.seen;
    const { words, summary } = this;
    let m = 0;
    for (let s = 0; s < summary.length; s++) {
      let sBits = summary[s]!;
      if (sBits === 0) continue;
      summary[s] = 0;
      while (sBits !== 0) {
        const w = (s << 5) + 31 - Math.clz32(sBits & -sBits);
        sBits &= sBits - 1;
        let bits = words[w]!;
        words[w] = 0;
        while (bits !== 0) {
          out[m++] = (w << 5) + 31 - Math.clz32(bits & -bits);
          bits &= bits - 1;
        }
      }
    }
    return out.subarray(0, m);
  }
}

function grow(array: Int32Array, length: number): Int32Array {
  const grown = new Int32Array(Math.max(length, array.length * 2));
  grown.set(array);
  return grown;
}

/** A stage turning one array<string> column into one vector column of a fixed size. */
function tokensToVector(ctx: StageContext, size: number, vectorize: (tokens: string[]) => Vector): Stage {
  const input = ctx.params.string('inputCol');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  const stage: Stage = {
    uid: ctx.metadata.uid,
    className: ctx.metadata.class,
    inputCols: [input],
    outputCols: [output],
    transform(frame) {
      const col = frame.getTyped(input, 'strings').values;
      const out = new Array<Vector | null>(col.length);
      for (let i = 0; i < col.length; i++) {
        const tokens = col[i];
        if (tokens == null) {
          out[i] = null;
          rejectNull(frame, i, stage, input);
        } else out[i] = vectorize(tokens);
      }
      frame.set(output, { type: 'vector', size, values: out });
    },
  };
  return stage;
}

/**
 * CountVectorizerModel: counts of in-vocabulary terms. A fractional minTF is a share of
 * the row's token count, out-of-vocabulary tokens included.
 */
const countVectorizerModel: StageFactory = async (ctx) => {
  const [row] = await ctx.readData();
  const vocabulary = (row?.vocabulary ?? []) as string[];
  const index = new Map<string, number>();
  vocabulary.forEach((term, i) => index.set(term, i));
  const minTF = ctx.params.number('minTF', 1);
  const binary = ctx.params.boolean('binary', false);
  const counts = new TermCounts(index.size);
  const arena = new TypedArena();
  const stage = tokensToVector(ctx, index.size, (tokens) => {
    for (const t of tokens) {
      const i = index.get(t);
      if (i !== undefined) counts.add(i);
    }
    return counts.take(arena, index.size, minTF >= 1 ? minTF : tokens.length * minTF, binary);
  });
  return declareTextPart(stage, { kind: 'vocabulary', size: index.size, vocabulary, index, minTF, binary });
};

/**
 * HashingTF: each term goes to `nonNegativeMod(murmur3(utf8(term), 42), numFeatures)`.
 * Spark 3.0 moved ml.feature.HashingTF to the standard Murmur3 tail handling
 * (`hashUnsafeBytes2`, SPARK-23469/SPARK-23381) and keeps the pre-3.0 variant
 * (`hashUnsafeBytes`) for HashingTF saved by Spark 1.x/2.x, chosen by the saved sparkVersion.
 */
const hashingTF: StageFactory = (ctx) => {
  const numFeatures = ctx.params.number('numFeatures', 1 << 18);
  const binary = ctx.params.boolean('binary', false);
  const legacy = sparkMajorVersion(ctx.metadata.sparkVersion) < 3;
  const counts = new TermCounts(numFeatures);
  const arena = new TypedArena();
  const stage = tokensToVector(ctx, numFeatures, (tokens) => {
    for (const t of tokens) counts.add(hashingTFIndex(t, numFeatures, legacy));
    return counts.take(arena, numFeatures, 0, binary);
  });
  return declareTextPart(stage, { kind: 'hashing', size: numFeatures, legacy, binary });
};

function sparkMajorVersion(version: string | undefined): number {
  const m = /^(\d+)\./.exec(version ?? '');
  return m ? Number(m[1]) : 3;
}

export const SEED = 42;

/** The vector index HashingTF gives a term (`indexOf`). */
export function hashingTFIndex(term: string, numFeatures: number, legacy: boolean): number {
  const h = legacy ? NaN : murmur3Ascii(term, SEED);
  if (!Number.isNaN(h)) return nonNegativeMod(h, numFeatures);
  const length = encodeUtf8(term); // first: it may replace the buffer
  return hashingTFIndexOfBytes(utf8Buffer, length, numFeatures, legacy);
}

/** `hashingTFIndex` of a term given as its UTF-8 bytes. */
export function hashingTFIndexOfBytes(bytes: Uint8Array, length: number, numFeatures: number, legacy: boolean): number {
  return nonNegativeMod(legacy ? murmur3Legacy(bytes, length, SEED) : murmur3(bytes, length, SEED), numFeatures);
}

export function nonNegativeMod(h: number, n: number): number {
  const mod = h % n;
  return mod < 0 ? mod + n : mod;
}

let utf8Buffer = new Uint8Array(256);

/**
 * Java's `String.getBytes(UTF_8)` into the shared buffer; returns the byte count. Unlike
 * TextEncoder, Java replaces an unpaired surrogate with '?'.
 */
function encodeUtf8(s: string): number {
  if (utf8Buffer.length < s.length * 3) utf8Buffer = new Uint8Array(s.length * 3);
  const b = utf8Buffer;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) b[n++] = c;
    else if (c < 0x800) {
      b[n++] = 0xc0 | (c >> 6);
      b[n++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        b[n++] = 0xf0 | (c >> 18);
        b[n++] = 0x80 | ((c >> 12) & 0x3f);
        b[n++] = 0x80 | ((c >> 6) & 0x3f);
        b[n++] = 0x80 | (c & 0x3f);
      } else b[n++] = 0x3f;
    } else {
      b[n++] = 0xe0 | (c >> 12);
      b[n++] = 0x80 | ((c >> 6) & 0x3f);
      b[n++] = 0x80 | (c & 0x3f);
    }
  }
  return n;
}

export function mixK1(k1: number): number {
  k1 = Math.imul(k1, 0xcc9e2d51);
  k1 = (k1 << 15) | (k1 >>> 17);
  return Math.imul(k1, 0x1b873593);
}

export function mixH1(h1: number, k1: number): number {
  h1 ^= k1;
  h1 = (h1 << 13) | (h1 >>> 19);
  return (Math.imul(h1, 5) + 0xe6546b64) | 0;
}

export function fmix(h1: number, length: number): number {
  h1 ^= length;
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  return h1;
}

/** Little-endian 4-byte blocks, as Platform.getInt reads them on x86. */
function hashBlocks(bytes: Uint8Array, aligned: number, seed: number): number {
  let h1 = seed;
  for (let i = 0; i < aligned; i += 4) {
    const k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    h1 = mixH1(h1, mixK1(k));
  }
  return h1;
}

/** Murmur3_x86_32.hashUnsafeBytes2: standard MurmurHash3 x86_32 (Spark 3.x HashingTF). */
export function murmur3(bytes: Uint8Array, length: number, seed: number): number {
  const aligned = length - (length % 4);
  let h1 = hashBlocks(bytes, aligned, seed);
  let k1 = 0;
  for (let i = aligned, shift = 0; i < length; i++, shift += 8) k1 ^= bytes[i]! << shift;
  h1 ^= mixK1(k1);
  return fmix(h1, length);
}

/**
 * `murmur3` of an ASCII string's bytes, read straight from its characters (most terms are
 * ASCII, and their UTF-8 bytes are their character codes); NaN when a character is not ASCII.
 */
function murmur3Ascii(s: string, seed: number): number {
  const length = s.length;
  const aligned = length - (length % 4);
  let seen = 0;
  let h1 = seed;
  for (let i = 0; i < aligned; i += 4) {
    const a = s.charCodeAt(i);
    const b = s.charCodeAt(i + 1);
    const c = s.charCodeAt(i + 2);
    const d = s.charCodeAt(i + 3);
    seen |= a | b | c | d;
    h1 = mixH1(h1, mixK1(a | (b << 8) | (c << 16) | (d << 24)));
  }
  let k1 = 0;
  for (let i = aligned, shift = 0; i < length; i++, shift += 8) {
    const c = s.charCodeAt(i);
    seen |= c;
    k1 ^= c << shift;
  }
  if (seen >= 0x80) return NaN;
  h1 ^= mixK1(k1);
  return fmix(h1, length);
}

/**
 * Murmur3_x86_32.hashUnsafeBytes (Spark 1.x/2.x HashingTF): each tail byte, sign-extended,
 * is mixed in as a whole block of its own.
 */
export function murmur3Legacy(bytes: Uint8Array, length: number, seed: number): number {
  const aligned = length - (length % 4);
  let h1 = hashBlocks(bytes, aligned, seed);
  for (let i = aligned; i < length; i++) h1 = mixH1(h1, mixK1((bytes[i]! << 24) >> 24));
  return fmix(h1, length);
}

/**
 * IDFModel: multiplies each stored value by the term's idf (terms below minDocFreq got idf
 * 0 at fit). Sparse vectors keep their indices, explicit zeros included.
 */
const idfModel: StageFactory = async (ctx) => {
  const [row] = await ctx.readData();
  if (!row) throw new Error('IDFModel data is empty');
  const idf = denseFromStruct(row.idf);
  const arena = new TypedArena();
  const input = ctx.params.string('inputCol');
  const output = ctx.params.string('outputCol', defaultOutputCol(ctx));
  const stage = vectorMapStage(ctx, input, output, idf.length, (v) => scaleByIdf(v, idf, arena) ?? `${idf.length} terms; the vector in "${input}" reaches past them`);
  return declareTextPart(stage, { kind: 'idf', idf });
};

function scaleByIdf(v: Vector, idf: Float64Array, arena: TypedArena): Vector | null {
  if (v instanceof Float64Array) {
    if (v.length > idf.length) return null;
    const out = new Float64Array(v.length);
    for (let j = 0; j < v.length; j++) out[j] = v[j]! * idf[j]!;
    return out;
  }
  const values = arena.float64(v.values.length);
  for (let k = 0; k < values.length; k++) {
    const index = v.indices[k]!;
    if (index >= idf.length) return null;
    values[k] = v.values[k]! * idf[index]!;
  }
  return { size: v.size, indices: v.indices, values };
}

/**
 * Word2VecModel: the mean of the sentence's word vectors (float32 values summed in double),
 * unknown words counting in the denominator; an empty sentence gives an all-zero sparse vector.
 */
const word2VecModel: StageFactory = async (ctx) => {
  const size = ctx.params.number('vectorSize', 100);
  const { offsets, vectors } = readWordVectors(await ctx.readData(), size);
  const empty: SparseVector = { size, indices: new Int32Array(0), values: new Float64Array(0) };
  return tokensToVector(ctx, size, (sentence) => {
    if (sentence.length === 0) return empty;
    const sum = new Float64Array(size);
    for (const word of sentence) {
      const offset = offsets.get(word);
      if (offset === undefined) continue;
      for (let i = 0; i < size; i++) sum[i] = sum[i]! + vectors[offset + i]!;
    }
    const scale = 1 / sentence.length;
    for (let i = 0; i < size; i++) sum[i] = sum[i]! * scale;
    return sum;
  });
};

/**
 * Spark before 2.2 saved one row `wordIndex: map<string,int>, wordVectors: array<float>`
 * (flat, vocabulary × vectorSize); 2.2 and later save one `word, vector` row per word.
 */
function readWordVectors(rows: Record<string, unknown>[], size: number): { offsets: Map<string, number>; vectors: Float64Array } {
  const offsets = new Map<string, number>();
  if (rows.length === 1 && rows[0]!.wordIndex !== undefined) {
    const wordIndex = rows[0]!.wordIndex as Record<string, number | bigint>;
    const flat = rows[0]!.wordVectors as number[];
    const words = Object.keys(wordIndex);
    if (flat.length !== words.length * size) {
      throw new Error(`Word2VecModel has ${flat.length} values for ${words.length} words of size ${size}`);
    }
    for (const w of words) offsets.set(w, Number(wordIndex[w]) * size);
    return { offsets, vectors: Float64Array.from(flat, Math.fround) };
  }
  const vectors = new Float64Array(rows.length * size);
  rows.forEach((row, k) => {
    const v = row.vector as number[];
    if (v.length !== size) throw new Error(`Word2VecModel vector of "${String(row.word)}" has ${v.length} values, expected ${size}`);
    for (let i = 0; i < size; i++) vectors[k * size + i] = Math.fround(v[i]!);
    offsets.set(String(row.word), k * size);
  });
  return { offsets, vectors };
}

export const textVectorStages: Record<string, StageFactory> = {
  [ML + 'CountVectorizerModel']: countVectorizerModel,
  [ML + 'HashingTF']: hashingTF,
  [ML + 'IDFModel']: idfModel,
  [ML + 'Word2VecModel']: word2VecModel,
};
