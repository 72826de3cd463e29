/**
 * The commonest record of a text package, `{"id": ..., "<text column>": "..."}`, read from
 * its bytes without decoding it into strings first. The general path (TextDecoder, then
 * JSON.parse, then the text stages over the string) reads a 2.6 kB mail three times; here the
 * text member's bytes go straight to the fused text stage (`JsonTextReader`), which tokenizes
 * and hashes them as it walks them once.
 *
 * Only a plain subset of JSON is read here, the shape producers write: an object holding
 * exactly the members `id` (an ASCII string without escapes or an integer of up to 15
 * digits) and the text column (a string, non-ASCII characters included), in any order, with
 * JSON's whitespace anywhere between tokens. Anything else — another member, a repeated one,
 * a non-ASCII byte outside the text, a `\u` escape, bytes that are not UTF-8, a number that is
 * not a plain integer, invalid JSON — returns undefined, and the caller decodes the
 * record the general way, which gives its answer or its error exactly as before. What this
 * accepts is valid JSON whose JSON.parse result is `{ id, text }`, which the package's input
 * schema (one STRING column) always accepts.
 */
import type { SparseVector } from '../pipeline/frame.js';

/**
 * What reads the text member's string (the fused text stage, `jsonTextReaderOf` in
 * stages/spark/fused-text.ts): `read` takes the string from just past its opening quote and
 * returns the index just past its closing quote, or -1 where the string holds something left
 * to JSON.parse and the general path (a `\u` escape, a raw control character, bytes that
 * are not UTF-8; its counts are then cleared). After a successful `read`, `finish` gives the
 * row's vector, exactly what the stage computes from the decoded string; `discard` forgets
 * the counts instead (the record failed elsewhere).
 */
export interface JsonTextReader {
  /** The column the stage reads (the record member) and the one it writes. */
  readonly column: string;
  readonly output: string;
  read(bytes: Uint8Array, at: number): number;
  discard(): void;
  finish(): SparseVector;
}

const QUOTE = 34;
const BACKSLASH = 92;
const ID = [105, 100]; // "id"

/** JSON's whitespace: space, tab, line feed, carriage return. */
function skipSpace(bytes: Uint8Array, i: number): number {
  for (;;) {
    const b = bytes[i];
    if (b !== 32 && b !== 9 && b !== 10 && b !== 13) return i;
    i++;
  }
}

/** The end (index of the closing quote) of a string without escapes or non-ASCII bytes starting at `at`; -1 otherwise. */
function plainStringEnd(bytes: Uint8Array, at: number): number {
  for (let i = at; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === QUOTE) return i;
    if (b === BACKSLASH || b < 32 || b >= 128) return -1;
  }
  return -1;
}

function sameBytes(bytes: Uint8Array, start: number, end: number, key: readonly number[]): boolean {
  if (end - start !== key.length) return false;
  for (let k = 0; k < key.length; k++) if (bytes[start + k] !== key[k]) return false;
  return true;
}

/** A plain integer (`-`? then `0` or up to 15 digits not starting with 0) from `at`: its end, or -1. */
function integerEnd(bytes: Uint8Array, at: number): number {
  let i = bytes[at] === 45 ? at + 1 : at;
  const first = i;
  while (bytes[i]! >= 48 && bytes[i]! <= 57) i++;
  const digits = i - first;
  if (digits === 0 || digits > 15 || (digits > 1 && bytes[first] === 48)) return -1;
  // A fraction or an exponent makes it a number JSON.parse reads otherwise.
  const next = bytes[i];
  if (next === 46 || next === 101 || next === 69) return -1;
  return i;
}

/**
 * Reads `{"id": ..., "<column>": "..."}` from `bytes`, the text member through `reader`: the
 * record's id, or undefined when the record is not of that plain shape (the reader's counts
 * are then cleared). On success the reader holds the text's counts for `reader.finish()`.
 */
export function readJsonTextRecord(bytes: Buffer, column: readonly number[], reader: JsonTextReader): string | number | undefined {
  let id: string | number | undefined;
  let text = false;
  let i = skipSpace(bytes, 0);
  if (bytes[i] !== 123) return undefined;
  i = skipSpace(bytes, i + 1);
  for (;;) {
    if (bytes[i] !== QUOTE) return giveUp(reader, text);
    const keyEnd = plainStringEnd(bytes, i + 1);
    if (keyEnd < 0) return giveUp(reader, text);
    const keyStart = i + 1;
    i = skipSpace(bytes, keyEnd + 1);
    if (bytes[i] !== 58) return giveUp(reader, text);
    i = skipSpace(bytes, i + 1);
    if (sameBytes(bytes, keyStart, keyEnd, ID)) {
      if (id !== undefined) return giveUp(reader, text);
      if (bytes[i] === QUOTE) {
        const end = plainStringEnd(bytes, i + 1);
        if (end < 0) return giveUp(reader, text);
        id = bytes.toString('latin1', i + 1, end);
        i = end + 1;
      } else {
        const end = integerEnd(bytes, i);
        if (end < 0) return giveUp(reader, text);
        id = Number(bytes.toString('latin1', i, end));
        i = end;
      }
    } else if (sameBytes(bytes, keyStart, keyEnd, column)) {
      if (text || bytes[i] !== QUOTE) return giveUp(reader, text);
      const end = reader.read(bytes, i + 1);
      if (end < 0) return undefined; // the reader cleared its counts
      text = true;
      i = end;
    } else return giveUp(reader, text);
    i = skipSpace(bytes, i);
    if (bytes[i] === 44) {
      i = skipSpace(bytes, i + 1);
      continue;
    }
    if (bytes[i] !== 125) return giveUp(reader, text);
    i = skipSpace(bytes, i + 1);
    break;
  }
  if (i !== bytes.length || id === undefined || !text) return giveUp(reader, text);
  return id;
}

/** Leaves the record to the general path, clearing what the reader counted of its text if it read it. */
function giveUp(reader: JsonTextReader, textRead: boolean): undefined {
  if (textRead) reader.discard();
  return undefined;
}

/** A member name as the bytes `readJsonTextRecord` compares: undefined when it is not plain ASCII (such a column is never read this way). */
export function plainKey(name: string): number[] | undefined {
  if (!/^[\x20-\x7e]*$/.test(name) || /["\\]/.test(name)) return undefined;
  return Array.from(name, (c) => c.charCodeAt(0));
}
