import { dirname, sep } from 'node:path';
import { kafkajsInternals } from './kafkajs-internals.js';

/**
 * A faster encoder for the records kafkajs 2.2 puts in a produce request.
 *
 * kafkajs encodes each record, and each of its headers, with a fresh `Encoder`: a zero-filled
 * 512-byte buffer per record and per header, plus a small buffer for every varint it writes.
 * An mlstream output (three headers) cost about 12 µs of main-thread CPU that way on the bench
 * machine, more than the pipe's whole per-record budget allows. This encoder writes the same
 * bytes (the record layout of Kafka's message format v2: length, attributes, timestamp delta,
 * offset delta, key, value, headers, every integer a zig-zag varint) into one buffer sized
 * first, so a record costs one pooled allocation.
 *
 * It takes the place of kafkajs's own record encoder (`recordBatch/record/v0`, whose only user
 * is the v3 produce request, which v4–v7 build on) through Node's module cache. A record it does not cover — a key,
 * value or header value that is not a string, Buffer or (key/value only) null, or a timestamp
 * delta outside 32 bits — goes to kafkajs's own encoder, so every input kafkajs accepts or
 * refuses keeps its behaviour. test/unit/kafka-records.test.ts checks the bytes against
 * kafkajs's encoder over random records.
 */

/** What kafkajs's record encoder receives: a message spread with its place in the batch. */
export interface RecordInput {
  readonly key?: unknown;
  readonly value?: unknown;
  readonly headers?: unknown;
  readonly offsetDelta?: unknown;
  readonly timestampDelta?: unknown;
}

/** What kafkajs's record batch reads from an encoded record (`writeEncoderArray`): the bytes, twice. */
export interface EncodedRecord {
  readonly buf: Buffer;
  readonly buffer: Buffer;
}

type RecordEncoder = (record: RecordInput) => EncodedRecord;

const NULL_LENGTH = -1;

/** A string's or Buffer's UTF-8 length, -1 for null/undefined, undefined for anything else. */
function lengthOf(v: unknown, nullable: boolean): number | undefined {
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (Buffer.isBuffer(v)) return v.length;
  return nullable && v == null ? NULL_LENGTH : undefined;
}

const zigZag = (n: number): number => ((n << 1) ^ (n >> 31)) >>> 0;

function varintSize(n: number): number {
  let u = zigZag(n);
  let size = 1;
  while (u >= 0x80) {
    u >>>= 7;
    size++;
  }
  return size;
}

const isInt32 = (v: unknown): v is number => typeof v === 'number' && (v | 0) === v;

/**
 * Byte lengths measured while sizing, read back in the same order while writing: per record
 * its body, key, value and header count, then each header's name and value. Reused from
 * record to record and request to request (encoding is synchronous), so measuring costs no
 * allocation; `measureRecord` appends, `writeRecord` reads from `tapeRead`.
 */
let tape = new Int32Array(1024);
let tapeLength = 0;
let tapeRead = 0;

function tapePush(n: number): void {
  if (tapeLength === tape.length) {
    const grown = new Int32Array(tape.length * 2);
    grown.set(tape);
    tape = grown;
  }
  tape[tapeLength++] = n;
}

/** Empties the tape before a record or request is measured. */
export function rewindTape(): void {
  tapeLength = 0;
  tapeRead = 0;
}

/** Measures one header onto the tape; its bytes, or -1 when its value is not covered. */
function measureHeader(name: string, value: unknown): number {
  const valueLength = lengthOf(value, false);
  if (valueLength === undefined) return -1;
  const nameLength = Buffer.byteLength(name, 'utf8');
  tapePush(nameLength);
  tapePush(valueLength);
  return varintSize(nameLength) + nameLength + varintSize(valueLength) + valueLength;
}

function writeVarint(out: Buffer, at: number, n: number): number {
  let u = zigZag(n);
  while (u >= 0x80) {
    out[at++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  out[at++] = u;
  return at;
}

/** Strings up to this many bytes, when ASCII, are written here rather than by a call into Node. */
const SHORT_ASCII = 48;

/** Length-prefixed bytes: a varint length (-1 for null), then the UTF-8 of a string or a Buffer's bytes. */
function writeBytes(out: Buffer, at: number, v: string | Buffer | null | undefined, length: number): number {
  at = writeVarint(out, at, length);
  if (length <= 0) return at;
  if (typeof v === 'string') {
    // A short ASCII string (its UTF-8 length equals its length only then) is copied here: a
    // call into Node's UTF-8 writer costs more than the loop for the headers' few bytes.
    if (length === v.length && length <= SHORT_ASCII) for (let i = 0; i < length; i++) out[at + i] = v.charCodeAt(i);
    else out.write(v, at, length, 'utf8');
  } else v!.copy(out, at);
  return at + length;
}

/**
 * Sizes one record (Kafka's message format v2) onto the tape: its whole length with the
 * length's own varint, or -1 when it holds something this encoder leaves to kafkajs — a key,
 * value or header value that is not a string, Buffer or (key and value only) null, or a delta
 * outside 32 bits. Header order is kafkajs's: the object's keys in order, an array value as
 * one header per element.
 */
export function measureRecord(key: unknown, value: unknown, headers: unknown, offsetDelta: unknown, timestampDelta: unknown): number {
  if (!isInt32(offsetDelta) || !isInt32(timestampDelta)) return -1;
  const keyLength = lengthOf(key, true);
  const valueLength = lengthOf(value, true);
  if (keyLength === undefined || valueLength === undefined) return -1;
  // kafkajs defaults only a missing headers object (and throws on null).
  const fields = (headers === undefined ? {} : headers) as Record<string, unknown>;
  if (typeof fields !== 'object' || fields === null) return -1;
  const bodyAt = tapeLength;
  tapePush(0);
  tapePush(keyLength);
  tapePush(valueLength);
  tapePush(0);
  let count = 0;
  let headerBytes = 0;
  for (const name in fields) {
    if (!Object.hasOwn(fields, name)) continue;
    const v = fields[name];
    const list = Array.isArray(v) ? (v as unknown[]) : undefined;
    for (let k = 0, n = list ? list.length : 1; k < n; k++, count++) {
      const size = measureHeader(name, list ? list[k] : v);
      if (size < 0) return -1;
      headerBytes += size;
    }
  }
  const body =
    1 + varintSize(timestampDelta) + varintSize(offsetDelta) + varintSize(keyLength) + Math.max(0, keyLength) + varintSize(valueLength) + Math.max(0, valueLength) + varintSize(count) + headerBytes;
  tape[bodyAt] = body;
  tape[bodyAt + 3] = count;
  return varintSize(body) + body;
}

/** Writes the record `measureRecord` sized last-but-not-yet-written (the same arguments, in the same order) at `at`; the index past it. */
export function writeRecord(out: Buffer, at: number, key: unknown, value: unknown, headers: unknown, offsetDelta: number, timestampDelta: number): number {
  at = writeVarint(out, at, tape[tapeRead++]!);
  out[at++] = 0; // attributes: none are defined for a record
  at = writeVarint(out, at, timestampDelta);
  at = writeVarint(out, at, offsetDelta);
  at = writeBytes(out, at, key as string | Buffer | null | undefined, tape[tapeRead++]!);
  at = writeBytes(out, at, value as string | Buffer | null | undefined, tape[tapeRead++]!);
  at = writeVarint(out, at, tape[tapeRead++]!);
  const fields = (headers ?? {}) as Record<string, unknown>;
  for (const name in fields) {
    if (!Object.hasOwn(fields, name)) continue;
    const v = fields[name];
    const list = Array.isArray(v) ? (v as unknown[]) : undefined;
    for (let k = 0, n = list ? list.length : 1; k < n; k++) {
      at = writeBytes(out, at, name, tape[tapeRead++]!);
      at = writeBytes(out, at, (list ? list[k] : v) as string | Buffer, tape[tapeRead++]!);
    }
  }
  return at;
}

/**
 * The record's bytes, or undefined when it holds something this encoder leaves to kafkajs.
 * Sized in one pass and written in a second, with nothing allocated but the output.
 */
export function encodeRecord(record: RecordInput): EncodedRecord | undefined {
  const offsetDelta = record.offsetDelta ?? 0;
  const timestampDelta = record.timestampDelta ?? 0;
  rewindTape();
  const size = measureRecord(record.key, record.value, record.headers, offsetDelta, timestampDelta);
  if (size < 0) return undefined;
  // Every byte is written below, so the pooled, unfilled buffer leaks nothing; were the sizes
  // ever to disagree with the writes, kafkajs's own encoder takes the record instead.
  const out = Buffer.allocUnsafe(size);
  if (writeRecord(out, 0, record.key, record.value, record.headers, offsetDelta as number, timestampDelta as number) !== size) return undefined;
  return { buf: out, buffer: out };
}

const KAFKAJS_RECORD = 'kafkajs/src/protocol/recordBatch/record/v0/index.js';
const KAFKAJS_PRODUCE_V3 = 'kafkajs/src/protocol/requests/produce/v3/request.js';
const FAST = Symbol.for('mlstream.kafkajs-records');

let installed: boolean | undefined;

/**
 * Puts `encodeRecord` in front of kafkajs's record encoder for this process (once; later calls
 * return the first answer). False, leaving kafkajs as it is, when kafkajs is not a 2.2 release
 * laid out as expected. The produce request modules from v3 on (each version's module holds
 * the one below it, v3 holds the record encoder) are dropped from the cache, so kafkajs's next
 * produce, which requires its version's module afresh, takes the new encoder even where a
 * produce ran before.
 */
export function installRecordEncoder(): boolean {
  if (installed !== undefined) return installed;
  installed = false;
  const internals = kafkajsInternals((require) => ({ recordPath: require.resolve(KAFKAJS_RECORD), produceV3Path: require.resolve(KAFKAJS_PRODUCE_V3) }));
  if (!internals) return false;
  const { require, found: { recordPath, produceV3Path } } = internals;
  const original = require(recordPath) as RecordEncoder & { [FAST]?: true };
  const cached = require.cache[recordPath];
  if (typeof original !== 'function' || !cached) return false;
  if (!original[FAST]) {
    const fast = Object.assign((record: RecordInput): EncodedRecord => encodeRecord(record) ?? original(record), { [FAST]: true as const });
    cached.exports = fast;
    for (const path of produceRequestModules(require.cache, produceV3Path)) delete require.cache[path];
  }
  installed = true;
  return true;
}

/** The cached produce request modules of version 3 and later (`…/requests/produce/vN/request.js`). */
export function produceRequestModules(cache: NodeJS.Require['cache'], produceV3Path: string): string[] {
  const produceDir = dirname(dirname(produceV3Path)) + sep;
  return Object.keys(cache).filter((path) => {
    if (!path.startsWith(produceDir)) return false;
    const version = /^v(\d+)[\\/]request\.js$/.exec(path.slice(produceDir.length));
    return version !== null && Number(version[1]) >= 3;
  });
}
