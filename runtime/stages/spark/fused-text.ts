/**
 * The text chain — Tokenizer or RegexTokenizer → StopWordsRemover (optional) → HashingTF or
 * CountVectorizerModel → IDFModel (optional) — as one stage, offered by the tokenizer at load
 * when the params of the stages after it allow. The general chain builds a string per token,
 * an array per row per stage, lower-cases and hashes each string; this stage walks each text
 * once, copies each token's (lower-cased) characters into one reused byte buffer, checks it
 * against the stop-word trie and hashes or looks it up from those bytes, and counts into one
 * reused array: nothing is allocated per token. Into HashingTF, each token is hashed as it is
 * read and checked against the stop words by that hash at its end (word-set.ts).
 *
 * The numbers are the general chain's, bit for bit. ASCII characters are their own UTF-8
 * bytes, Java lower-cases them by `+ 32` in every locale the chain fuses for, and neither
 * splitting nor lower-casing moves a token boundary. A token holding a non-ASCII character
 * goes through the general per-token functions (a string, Java's lower-casing); for the
 * word-character patterns, where lower-casing a non-ASCII letter can produce an ASCII one
 * (KELVIN SIGN → k), the whole text goes through the general tokenizer.
 */
import { ErrorCodes } from '../../errors.js';
import { TypedArena } from '../../pipeline/arena.js';
import type { Frame, SparseVector, Vector } from '../../pipeline/frame.js';
import type { FusedStage, Stage } from '../../pipeline/stage.js';
import { textPartOf, type HashingPart, type IdfPart, type StopWordsPart, type TokenizerPart, type VocabularyPart } from './text-parts.js';
import { fmix, hashingTFIndex, hashingTFIndexOfBytes, mixH1, mixK1, murmur3, murmur3Legacy, nonNegativeMod, SEED, TermCounts } from './text-vectors.js';
import { AsciiVocabulary } from './ascii-vocabulary.js';
import { AsciiWordHashes, type AsciiWordTrie } from './word-set.js';
import type { JsonTextReader } from '../../codecs/json-text-record.js';
import { textLoopAddon, type TextLoopAddon } from '../../native/text-loop.js';

const UNKNOWN = -1;

/** The offer a tokenizer makes to the pipeline: itself and the text stages right after it, when they chain. */
export function fuseTextChain(tokenizer: Stage, following: readonly Stage[]): FusedStage | undefined {
  const tokens = textPartOf(tokenizer);
  if (tokens?.kind !== 'tokenizer') return undefined;
  const chain: Stage[] = [tokenizer];
  const next = <K extends 'stopWords' | 'hashing' | 'vocabulary' | 'idf'>(...kinds: K[]): Extract<ReturnType<typeof textPartOf>, { kind: K }> | undefined => {
    const stage = following[chain.length - 1];
    const part = textPartOf(stage);
    if (!stage || !part || !(kinds as string[]).includes(part.kind)) return undefined;
    if (stage.inputCols.length !== 1 || stage.inputCols[0] !== chain.at(-1)!.outputCols[0]) return undefined;
    chain.push(stage);
    return part as Extract<ReturnType<typeof textPartOf>, { kind: K }>;
  };
  const stopWords = next('stopWords');
  if (stopWords && !stopWords.trie) return undefined;
  const vectorizer = next('hashing', 'vocabulary');
  if (!vectorizer) return undefined;
  if (vectorizer.kind === 'vocabulary' && vectorizer.index.size !== vectorizer.vocabulary.length) return undefined;
  const idf = next('idf');
  if (idf && idf.idf.length !== vectorizer.size) return undefined;
  return { stage: fusedTextStage(chain, tokens, stopWords, vectorizer, idf), count: chain.length };
}

function fusedTextStage(chain: readonly Stage[], tokens: TokenizerPart, stopWords: StopWordsPart | undefined, vectorizer: HashingPart | VocabularyPart, idf: IdfPart | undefined): Stage {
  const first = chain[0]!;
  const input = first.inputCols[0]!;
  const output = chain.at(-1)!.outputCols[0]!;
  const rows = new TextRows(tokens, stopWords, vectorizer, idf);
  const size = idf ? idf.idf.length : vectorizer.size;
  const name = first.className.slice(first.className.lastIndexOf('.') + 1);
  const stage: Stage = {
    uid: chain.map((s) => s.uid).join('+'),
    className: `mlstream.FusedText(${chain.map((s) => s.className.slice(s.className.lastIndexOf('.') + 1)).join(' → ')})`,
    inputCols: [input],
    outputCols: [output],
    transform(frame: Frame) {
      const texts = frame.getTyped(input, 'string').values;
      // Rows whose vector was read straight from the message's JSON bytes (jsonTextReaderOf).
      const preset = frame.presets?.get(output);
      const out = new Array<Vector | null>(texts.length);
      for (let i = 0; i < texts.length; i++) {
        const text = texts[i];
        const ready = preset?.[i];
        if (ready) out[i] = ready;
        else if (text == null) {
          out[i] = null;
          // The message and stage the general tokenizer gives, so the error record is the same.
          frame.reject(i, ErrorCodes.PIPELINE_ERROR, `${name} cannot process a null value in column "${input}"`, first.uid);
        } else out[i] = rows.vectorize(text);
      }
      frame.set(output, { type: 'vector', size, values: out });
    },
  };
  if (rows.readsJson) {
    jsonReaders.set(stage, {
      column: input,
      output,
      read: (bytes, at) => rows.jsonSpaceHash(bytes, at),
      discard: () => rows.discard(),
      finish: () => rows.finish(),
    });
  }
  return stage;
}

/** The stages that can take their text straight from a JSON record's bytes (codecs/json-text-record.ts). */
const jsonReaders = new WeakMap<Stage, JsonTextReader>();

/** The JSON reader of a fused text stage whose chain allows it (whitespace tokens into HashingTF). */
export function jsonTextReaderOf(stage: Stage | undefined): JsonTextReader | undefined {
  return stage ? jsonReaders.get(stage) : undefined;
}

/** What ASCII_LOWER and ASCII_SAME give for Java's `\s` characters: no character code. */
const SPACE = -1;
/** Per ASCII code: SPACE for Java's `\s` (space, \t \n \u000B \f \r), else the code (ASCII_SAME) or its lower case (ASCII_LOWER). */
const ASCII_SAME = Int8Array.from({ length: 128 }, (_, c) => (isJavaSpace(c) ? SPACE : c));
const ASCII_LOWER = Int8Array.from({ length: 128 }, (_, c) => (isJavaSpace(c) ? SPACE : c >= 65 && c <= 90 ? c + 32 : c));

/**
 * Per byte of a JSON string's raw content: SPACE for a raw space (the only whitespace JSON
 * leaves unescaped), QUOTE for its end, ESCAPE for a backslash, WIDE for a byte of a
 * non-ASCII character (never whitespace to Java's `\s`, so always inside a token), GIVE_UP for
 * a raw control character, which JSON forbids; else the character, lower-cased for JSON_LOWER.
 */
const QUOTE = -2;
const ESCAPE = -3;
const GIVE_UP = -4;
const WIDE = -5;
const jsonTable = (lower: boolean): Int8Array =>
  Int8Array.from({ length: 256 }, (_, b) =>
    b === 32 ? SPACE : b === 34 ? QUOTE : b === 92 ? ESCAPE : b >= 128 ? WIDE : b < 32 ? GIVE_UP : lower && b >= 65 && b <= 90 ? b + 32 : b,
  );
/** What decodes a token holding non-ASCII bytes: fatal, as the general path's decoder, so bytes that are not UTF-8 leave the record to it. */
const utf8 = new TextDecoder('utf-8', { fatal: true });
const JSON_SAME = jsonTable(false);
const JSON_LOWER = jsonTable(true);
/** What a JSON escape's letter stands for: the character, SPACE for the whitespace ones (\n \t \r \f), GIVE_UP for \u and anything unknown. */
const JSON_ESCAPES = Int8Array.from({ length: 256 }, (_, b) =>
  b === 110 || b === 116 || b === 114 || b === 102 ? SPACE : b === 34 ? 34 : b === 92 ? 92 : b === 47 ? 47 : b === 98 ? 8 : GIVE_UP,
);

function isJavaSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

/** The per-row work, with the buffers it reuses from row to row. */
class TextRows {
  private bytes = new Uint8Array(256);
  private readonly counts: TermCounts;
  private readonly arena = new TypedArena();
  private readonly vocabulary: AsciiVocabulary | undefined;
  private readonly trie: AsciiWordTrie | undefined;
  /**
   * The stop words by HashingTF's hash, for `spaceHash`, which has each token's hash at its end
   * anyway: one probe per token instead of a trie step per character. Left undefined (the trie
   * is stepped instead) when the list folds capitals the tokenizer leaves in its tokens.
   */
  private readonly stopHashes: AsciiWordHashes | undefined;
  /** Tokens of the current row that survived the stop words (CountVectorizer's fractional minTF counts them). */
  private kept = 0;
  /** size − 1 when the hashing size is a power of two (the usual numFeatures), else −1. */
  private readonly mask: number;

  constructor(
    private readonly tokens: TokenizerPart,
    private readonly stopWords: StopWordsPart | undefined,
    private readonly vectorizer: HashingPart | VocabularyPart,
    private readonly idf: IdfPart | undefined,
  ) {
    this.counts = new TermCounts(vectorizer.size);
    this.vocabulary = vectorizer.kind === 'vocabulary' ? new AsciiVocabulary(vectorizer.vocabulary) : undefined;
    this.trie = stopWords?.trie;
    if (this.trie && vectorizer.kind === 'hashing' && (tokens.lower || !this.trie.folds)) {
      const legacy = vectorizer.legacy;
      const bytes = (w: string): Uint8Array => Uint8Array.from(w, (c) => c.charCodeAt(0));
      this.stopHashes = new AsciiWordHashes(this.trie.words, (w) => (legacy ? murmur3Legacy(bytes(w), w.length, SEED) : murmur3(bytes(w), w.length, SEED)));
    }
    const size = vectorizer.size;
    this.mask = vectorizer.kind === 'hashing' && size > 0 && (size & (size - 1)) === 0 ? size - 1 : -1;
    // The JSON path hashes every token and checks stop words by that hash only.
    this.readsJson = tokens.splitter !== 'wordRuns' && vectorizer.kind === 'hashing' && (!this.trie || this.stopHashes !== undefined);
    this.emptyIndex =
      vectorizer.kind === 'hashing' && tokens.minLength <= 0 && !stopWords?.isStopWord('') ? hashingTFIndexOfBytes(new Uint8Array(0), 0, vectorizer.size, vectorizer.legacy) : UNKNOWN;
    this.native = this.readsJson && vectorizer.kind === 'hashing' ? nativeLoop(tokens, this.counts, this.stopHashes, vectorizer, idf, this.mask, this.emptyIndex) : undefined;
  }

  /** The C loop (native/text-loop.c) that reads JSON strings in `jsonSpaceHash`'s place, when it is built and wanted. */
  private readonly native: NativeLoop | undefined;

  /** Whether `jsonSpaceHash` serves this chain. */
  readonly readsJson: boolean;
  /** The index an empty token counts at, UNKNOWN when it counts at none (a minimum length, or "" is a stop word). */
  private readonly emptyIndex: number;

  /** Clears what was counted for a row that is given up. */
  discard(): void {
    this.counts.take(this.arena, 0, Infinity);
    this.kept = 0;
  }

  /**
   * `spaceHash` over a JSON string's raw bytes, from `at` (just past its opening quote) to its
   * closing quote, as the string JSON.parse would give: escapes are decoded as they are read
   * (\n \t \r \f are whitespace, so they separate tokens). Java's split keeps a leading
   * empty token and drops trailing ones; with the end not known in advance, empty tokens are
   * held back until a non-empty one follows. A token holding another escape (\" \\ \/ \b)
   * is decoded and goes through `token`. Returns the index past the closing quote, or -1
   * (counts cleared) at anything left to the general path. The bytes must be a Buffer's or a
   * Uint8Array's: a byte past the end reads undefined, which gives up. A token holding a
   * non-ASCII character is decoded from its UTF-8 bytes and goes through `token`, as in
   * `spaceHash`; bytes that are not UTF-8 give up, so the general path's decoder reports them.
   * A multi-byte character never spans a token boundary (every separator is ASCII), so the
   * tokens decode as the whole string would. The token loop is
   * `spaceHash`'s over bytes, kept apart from it: one loop over both strings and bytes would
   * read each character through a call, and these loops are most of a text package's CPU.
   */
  jsonSpaceHash(bytes: Uint8Array, at: number): number {
    const native = this.native;
    if (!native) return this.jsonSpaceHashHere(bytes, at);
    const end = native.addon.read(native.context, bytes, at);
    // Always first: the C loop counted straight into the dense arrays, and a discard clears them by this count.
    this.counts.added(native.status[0]!);
    if (end === -2) {
      // More tokens for the per-token rules than the C loop keeps room for: this whole string here.
      this.discard();
      return this.jsonSpaceHashHere(bytes, at);
    }
    if (end < 0) {
      this.discard();
      return -1;
    }
    this.kept = 0;
    const deferred = native.deferred;
    for (let k = 0, n = native.status[1]!; k < n; k++) {
      const token = this.jsonToken(bytes, deferred[2 * k]!, deferred[2 * k + 1]!);
      if (token === undefined) {
        this.discard();
        return -1;
      }
      this.token(this.tokens.lower ? token.toLowerCase() : token);
    }
    return end;
  }

  /** `jsonSpaceHash` in TypeScript: what runs without the C loop, and what it is held to. */
  private jsonSpaceHashHere(bytes: Uint8Array, at: number): number {
    const hashing = this.vectorizer as HashingPart;
    const runs = this.tokens.splitter === 'spaceRuns';
    const table = this.tokens.lower ? JSON_LOWER : JSON_SAME;
    const stopHashes = this.stopHashes;
    const minLength = this.tokens.minLength;
    const emptyIndex = this.emptyIndex;
    const { legacy, size } = hashing;
    const mask = this.mask;
    const counts = this.counts;
    const n = bytes.length;
    let heldEmpty = 0;
    let chars = 0;
    let i = at;
    this.kept = 0;
    for (;;) {
      const start = i;
      let h1 = SEED;
      let block = 0;
      let shift = 0;
      // Four bytes at a time while they are plain characters, one murmur3 block each (a token's
      // blocks start at its first byte); at the first other byte (separator, quote, escape,
      // non-ASCII) the plain ones before it are the tail block, and the loop below goes on from
      // that byte.
      while (i + 4 <= n) {
        const c0 = table[bytes[i]!]!;
        const c1 = table[bytes[i + 1]!]!;
        const c2 = table[bytes[i + 2]!]!;
        const c3 = table[bytes[i + 3]!]!;
        if ((c0 | c1 | c2 | c3) >= 0) {
          h1 = mixH1(h1, mixK1(c0 | (c1 << 8) | (c2 << 16) | (c3 << 24)));
          i += 4;
          continue;
        }
        // Without branches (where the token ends is a coin toss): k = how many plain bytes lead.
        const negative = (c0 >>> 31) | ((c1 >>> 31) << 1) | ((c2 >>> 31) << 2) | ((c3 >>> 31) << 3);
        const k = 31 - Math.clz32(negative & -negative);
        shift = k << 3;
        block = ((c0 & 0xff) | ((c1 & 0xff) << 8) | ((c2 & 0xff) << 16)) & ((1 << shift) - 1);
        i += k;
        break;
      }
      let length = i - start;
      let decode = false;
      let c: number;
      for (;;) {
        const b = bytes[i]!;
        c = b === undefined ? GIVE_UP : table[b]!;
        if (c < 0) {
          if (c === WIDE) {
            decode = true;
            length++;
            i++;
            continue;
          }
          if (c !== ESCAPE) break;
          c = JSON_ESCAPES[bytes[i + 1]!]!;
          if (c === GIVE_UP || c === SPACE) break;
          decode = true;
          length++;
          i += 2;
          continue;
        }
        length++;
        block |= c << shift;
        shift += 8;
        if (shift === 32) {
          h1 = mixH1(h1, mixK1(block));
          block = 0;
          shift = 0;
        }
        i++;
      }
      if (c === GIVE_UP) {
        this.discard();
        return -1;
      }
      chars += length;
      if (length === 0) heldEmpty++;
      else {
        if (heldEmpty > 0) {
          if (emptyIndex !== UNKNOWN) counts.addTimes(emptyIndex, heldEmpty);
          heldEmpty = 0;
        }
        if (decode) {
          const token = this.jsonToken(bytes, start, i);
          if (token === undefined) {
            this.discard();
            return -1;
          }
          this.token(this.tokens.lower ? token.toLowerCase() : token);
        } else if (length >= minLength) {
          const h = tokenHash(h1, block, shift, length, legacy);
          if (!(stopHashes && stopBytes(stopHashes, h, bytes, start, i, table))) counts.add(mask >= 0 ? h & mask : nonNegativeMod(h, size));
        }
      }
      if (c === QUOTE) break;
      // A separator: a raw space (one byte) or a whitespace escape (two). The separators right
      // after it are skipped here (\s+), or each ends an empty token (\s), which the mails'
      // blank lines and indentation hold by the hundred.
      chars++;
      i += bytes[i] === 92 ? 2 : 1;
      for (;;) {
        if (bytes[i] === 32) i++;
        else if (bytes[i] === 92 && JSON_ESCAPES[bytes[i + 1]!] === SPACE) i += 2;
        else break;
        chars++;
        if (!runs) heldEmpty++;
      }
    }
    // An empty string is one empty token; trailing empty tokens are dropped.
    if (chars === 0 && emptyIndex !== UNKNOWN) counts.add(emptyIndex);
    return i + 1;
  }

  /**
   * The token of JSON string bytes [start, end) that holds escapes or non-ASCII characters, as
   * JSON.parse gives it (not lower-cased): the escapes a token can hold (\" \\ \/ \b) decoded
   * into the reused byte buffer, then the whole as UTF-8. Undefined when it is not UTF-8.
   */
  private jsonToken(bytes: Uint8Array, start: number, end: number): string | undefined {
    if (this.bytes.length < end - start) this.bytes = new Uint8Array((end - start) * 2);
    const out = this.bytes;
    let n = 0;
    for (let i = start; i < end; i++) {
      const b = bytes[i]!;
      out[n++] = b === 92 ? JSON_ESCAPES[bytes[++i]!]! : b;
    }
    try {
      return utf8.decode(out.subarray(0, n));
    } catch {
      return undefined;
    }
  }

  vectorize(text: string): SparseVector {
    this.kept = 0;
    if (this.tokens.splitter === 'wordRuns') this.wordRuns(text);
    else if (this.vectorizer.kind === 'hashing') this.spaceHash(text, this.tokens.splitter === 'spaceRuns', this.vectorizer);
    else this.spaceSplit(text, this.tokens.splitter === 'spaceRuns');
    return this.finish();
  }

  /** The row counted so far as its vector (IDF applied); the counts start afresh. */
  finish(): SparseVector {
    const native = this.native;
    if (native) {
      const m = native.addon.take(native.context, this.counts.adds);
      if (m >= 0) {
        this.counts.takenElsewhere();
        const indices = this.arena.int32(m);
        indices.set(native.indices.subarray(0, m));
        const values = this.arena.float64(m);
        values.set(native.values.subarray(0, m));
        return { size: this.idf ? this.idf.idf.length : this.vectorizer.size, indices, values };
      }
    }
    const v = this.vectorizer;
    const minCount = v.kind === 'vocabulary' ? (v.minTF >= 1 ? v.minTF : this.kept * v.minTF) : 0;
    const vector = this.counts.take(this.arena, v.size, minCount, v.binary);
    if (this.idf) {
      const { indices, values } = vector;
      const idf = this.idf.idf;
      for (let k = 0; k < values.length; k++) values[k] = values[k]! * idf[indices[k]!]!;
      return { size: idf.length, indices, values };
    }
    return vector;
  }

  /**
   * Java's `Pattern.split` on `\s` or `\s+`: every piece up to the last non-space character
   * (empty pieces included), none after it; an empty text is one empty token.
   */
  private spaceSplit(text: string, runs: boolean): void {
    let last = text.length - 1;
    while (last >= 0 && isJavaSpace(text.charCodeAt(last))) last--;
    if (last < 0) {
      if (text.length === 0) this.range(text, 0, 0);
      return;
    }
    let start = 0;
    for (let i = 0; i < last; i++) {
      if (!isJavaSpace(text.charCodeAt(i))) continue;
      this.range(text, start, i);
      if (runs) while (isJavaSpace(text.charCodeAt(i + 1))) i++;
      start = i + 1;
    }
    this.range(text, start, last + 1);
  }

  /**
   * `spaceSplit` into a hashing vectorizer, in one pass: each character is lower-cased and
   * folded into its token's MurmurHash3 state as it is read, and the token's hash decides at
   * its end whether it is a stop word (one probe of `stopHashes`; the trie is walked per
   * character only where that index cannot be used), so no token is copied or read again
   * unless the probe hits. A token holding a non-ASCII character
   * still goes to `token` (the block state built from it is then ignored). The inner loop runs
   * over one token's characters only, and a token's end is handled in line: this loop is most
   * of spam-text's CPU.
   */
  private spaceHash(text: string, runs: boolean, hashing: HashingPart): void {
    let last = text.length - 1;
    while (last >= 0 && isJavaSpace(text.charCodeAt(last))) last--;
    if (last < 0) {
      if (text.length === 0) this.range(text, 0, 0);
      return;
    }
    const ascii = this.tokens.lower ? ASCII_LOWER : ASCII_SAME;
    const trie = this.trie;
    const stopHashes = this.stopHashes;
    const root = trie && !stopHashes ? 0 : -1;
    const minLength = this.tokens.minLength;
    const { legacy, size } = hashing;
    const mask = this.mask;
    const counts = this.counts;
    const end = last + 1;
    // `kept` is not counted here: only CountVectorizer's fractional minTF reads it.
    const emptyIndex = this.emptyIndex;
    for (let i = 0; ; i++) {
      const start = i;
      let h1 = SEED;
      let block = 0;
      let shift = 0;
      let seen = 0;
      let node = root;
      // As in jsonSpaceHash: four ASCII characters at a time while none is a space, one
      // murmur3 block each, the tail block found without branches. Not while stepping the trie.
      // A copy of that loop's lines on purpose: a helper shared by both measured 3–4% slower.
      while (node < 0 && i + 4 <= end) {
        const d0 = text.charCodeAt(i);
        const d1 = text.charCodeAt(i + 1);
        const d2 = text.charCodeAt(i + 2);
        const d3 = text.charCodeAt(i + 3);
        if ((d0 | d1 | d2 | d3) >= 0x80) break;
        const c0 = ascii[d0]!;
        const c1 = ascii[d1]!;
        const c2 = ascii[d2]!;
        const c3 = ascii[d3]!;
        if ((c0 | c1 | c2 | c3) >= 0) {
          h1 = mixH1(h1, mixK1(c0 | (c1 << 8) | (c2 << 16) | (c3 << 24)));
          i += 4;
          continue;
        }
        const negative = (c0 >>> 31) | ((c1 >>> 31) << 1) | ((c2 >>> 31) << 2) | ((c3 >>> 31) << 3);
        const k = 31 - Math.clz32(negative & -negative);
        shift = k << 3;
        block = ((c0 & 0xff) | ((c1 & 0xff) << 8) | ((c2 & 0xff) << 16)) & ((1 << shift) - 1);
        i += k;
        break;
      }
      for (; i < end; i++) {
        const code = text.charCodeAt(i);
        const c = code < 128 ? ascii[code]! : code;
        if (c === SPACE) break;
        seen |= code;
        if (node >= 0) node = trie!.step(node, c);
        // Little-endian 4-byte blocks, as murmur3 reads the token's bytes.
        block |= c << shift;
        shift += 8;
        if (shift === 32) {
          h1 = mixH1(h1, mixK1(block));
          block = 0;
          shift = 0;
        }
      }
      // The token is text[start, i); block holds its last shift / 8 bytes, not yet mixed in.
      if (seen >= 0x80) {
        const token = text.slice(start, i);
        this.token(this.tokens.lower ? token.toLowerCase() : token);
      } else if (i - start >= minLength && !(node >= 0 && trie!.isWord(node))) {
        const h = tokenHash(h1, block, shift, i - start, legacy);
        // Java's nonNegativeMod; for a power-of-two size that is the low bits of the two's complement hash.
        if (!(stopHashes && stopText(stopHashes, h, text, start, i, ascii))) counts.add(mask >= 0 ? h & mask : nonNegativeMod(h, size));
      }
      // text[last] is not a space, so a space at i < end always has a token after it.
      if (i >= end) break;
      if (runs) while (isJavaSpace(text.charCodeAt(i + 1))) i++;
      else {
        // Each further space right after this one ends an empty token.
        let empties = 0;
        while (isJavaSpace(text.charCodeAt(i + 1))) {
          i++;
          empties++;
        }
        if (empties > 0 && emptyIndex !== UNKNOWN) counts.addTimes(emptyIndex, empties);
      }
    }
  }

  private wordRuns(text: string): void {
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) >= 0x80) {
        for (const token of this.tokens.tokenize(text)) this.token(token);
        return;
      }
    }
    for (let i = 0; i < text.length; ) {
      if (!isWordChar(text.charCodeAt(i))) {
        i++;
        continue;
      }
      const start = i;
      while (i < text.length && isWordChar(text.charCodeAt(i))) i++;
      this.range(text, start, i);
    }
  }

  /** The token text[start, end) before lower-casing and the length filter. */
  private range(text: string, start: number, end: number): void {
    const length = end - start;
    if (this.bytes.length < length) this.bytes = new Uint8Array(length * 2);
    const bytes = this.bytes;
    const lower = this.tokens.lower;
    let seen = 0;
    for (let k = 0; k < length; k++) {
      let c = text.charCodeAt(start + k);
      seen |= c;
      if (lower && c >= 65 && c <= 90) c += 32;
      bytes[k] = c;
    }
    if (seen >= 0x80) {
      const token = text.slice(start, end);
      this.token(lower ? token.toLowerCase() : token);
      return;
    }
    if (length < this.tokens.minLength) return;
    if (this.trie && this.trie.lookupBytes(bytes, length) === 1) return;
    this.kept++;
    const v = this.vectorizer;
    const index = v.kind === 'hashing' ? hashingTFIndexOfBytes(bytes, length, v.size, v.legacy) : this.vocabulary!.lookup(bytes, length);
    if (index !== UNKNOWN) this.counts.add(index);
  }

  /** A token as the general tokenizer gives it (lower-cased already), by the general per-token rules. */
  private token(token: string): void {
    if (token.length < this.tokens.minLength) return;
    if (this.stopWords?.isStopWord(token)) return;
    this.kept++;
    const v = this.vectorizer;
    const index = v.kind === 'hashing' ? hashingTFIndex(token, v.size, v.legacy) : (v.index.get(token) ?? UNKNOWN);
    if (index !== UNKNOWN) this.counts.add(index);
  }
}

/** The C token loop's context for one fused stage, and the arrays it reports through. */
interface NativeLoop {
  readonly addon: TextLoopAddon;
  readonly context: object;
  /** [adds into the count arrays, tokens deferred] of the last read. */
  readonly status: Int32Array;
  /** The deferred tokens' [start, end) byte ranges: tokens holding an escape or a non-ASCII character. */
  readonly deferred: Int32Array;
  /** Where `take` writes a row's vector (TAKE_ROOM entries). */
  readonly indices: Int32Array;
  readonly values: Float64Array;
}

/** Tokens of one string the C loop can leave to the per-token rules; a string with more goes through the TypeScript loop. */
const DEFERRED_TOKENS = 4096;

/** Adds of one row the C loop's `take` makes a vector of; a row with more (a text of over 16k tokens) is taken in TypeScript. */
const TAKE_ROOM = 16384;

/**
 * The C loop for a chain the JSON path serves, counting into `counts`' own arrays; undefined
 * when the addon is not there (or not wanted) or the counts are not dense. Every array it
 * holds lives as long as the stage (the context keeps them alive) and is made off the V8 heap.
 */
function nativeLoop(tokens: TokenizerPart, counts: TermCounts, stopHashes: AsciiWordHashes | undefined, hashing: HashingPart, idf: IdfPart | undefined, mask: number, emptyIndex: number): NativeLoop | undefined {
  const { addon } = textLoopAddon();
  const arrays = counts.denseArrays();
  if (!addon || !arrays) return undefined;
  const stop = stopHashes?.tables();
  const words = stop?.words ?? [];
  const wordStart = new Int32Array(words.length + 1);
  words.forEach((w, k) => (wordStart[k + 1] = wordStart[k]! + w.length));
  const wordBytes = new Uint8Array(wordStart[words.length]!);
  // A character beyond ASCII matches no byte the loop compares (it compares plain ASCII tokens only).
  words.forEach((w, k) => {
    for (let j = 0; j < w.length; j++) wordBytes[wordStart[k]! + j] = w.charCodeAt(j) < 128 ? w.charCodeAt(j) : 0xff;
  });
  const status = new Int32Array(new ArrayBuffer(8));
  const deferred = new Int32Array(2 * DEFERRED_TOKENS);
  const settings = Int32Array.of(tokens.lower ? 1 : 0, tokens.splitter === 'spaceRuns' ? 1 : 0, hashing.legacy ? 1 : 0, tokens.minLength, hashing.size, mask, emptyIndex, hashing.binary ? 1 : 0);
  const none = new Int32Array(0);
  const weights = idf ? idf.idf : new Float64Array(0);
  const indices = new Int32Array(TAKE_ROOM);
  const values = new Float64Array(TAKE_ROOM);
  const context = addon.create(settings, stop?.hashes ?? none, stop?.ids ?? none, wordStart, wordBytes, arrays.dense, arrays.words, arrays.summary, status, deferred, weights, indices, values);
  return { addon, context, status, deferred, indices, values };
}

/**
 * A token's hash from its MurmurHash3 state after its last whole 4-byte block, with `shift / 8`
 * bytes left in `block`: Spark 1.x/2.x hashing mixes each tail byte (ASCII here, so sign
 * extension changes nothing) as a block of its own; Spark 3.x mixes the tail as one partial block.
 */
function tokenHash(h1: number, block: number, shift: number, length: number, legacy: boolean): number {
  if (legacy) for (let s = 0; s < shift; s += 8) h1 = mixH1(h1, mixK1((block >>> s) & 0xff));
  else h1 ^= mixK1(block);
  return fmix(h1, length);
}

/** Whether the token text[start, end), its characters read through `codes`, is a stop word of hash `h`. */
function stopText(words: AsciiWordHashes, h: number, text: string, start: number, end: number, codes: Int8Array): boolean {
  for (let at = words.find(h, end - start); at >= 0; at = words.find(h, end - start, at + 1)) {
    const word = words.word(at);
    let k = 0;
    while (k < word.length && codes[text.charCodeAt(start + k)] === word.charCodeAt(k)) k++;
    if (k === word.length) return true;
  }
  return false;
}

/** `stopText` for a token held as bytes. */
function stopBytes(words: AsciiWordHashes, h: number, bytes: Uint8Array, start: number, end: number, codes: Int8Array): boolean {
  for (let at = words.find(h, end - start); at >= 0; at = words.find(h, end - start, at + 1)) {
    const word = words.word(at);
    let k = 0;
    while (k < word.length && codes[bytes[start + k]!] === word.charCodeAt(k)) k++;
    if (k === word.length) return true;
  }
  return false;
}

