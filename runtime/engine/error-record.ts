/**
 * The value of an error record, bounded. An error record repeats its input (`raw`), and
 * JSON escaping can make that six times larger than the input (a control byte becomes
 * `\u0001`); an id or a message can be large too. So the record is built, measured in
 * UTF-8 bytes, and shrunk until it fits ERROR_RECORD_MAX_BYTES: `raw` is cut after escaping
 * (never inside an escape or a surrogate pair), then long ids, messages and details are
 * shortened. `rawTruncated` and `rawBytes` say when the input is not all there.
 */
import { ErrorCodes } from '../errors.js';
import { HEADER_MODEL, HEADER_SOURCE, type ErrorBody, type InputMessage } from './messages.js';

export interface ErrorRecordLimits {
  readonly errorRawMaxBytes: number;
  /** Largest error record value, in bytes; undefined: only the raw limit applies. */
  readonly errorRecordMaxBytes?: number;
}

/** Ids and messages longer than this are shortened when a record must shrink. */
const SHORT_TEXT_CHARS = 256;
const MAX_DETAILS = 20;

export function errorRecordValue(m: InputMessage, id: unknown, error: ErrorBody, modelTag: string, limits: ErrorRecordLimits): string {
  const knownId = typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null;
  const rawText = m.value ? utf8Prefix(m.value, limits.errorRawMaxBytes) : null;
  const inputBytes = m.value?.length ?? 0;
  const build = (recordId: unknown, err: ErrorBody, raw: string | null, cut: boolean): Record<string, unknown> => ({
    id: recordId,
    error: err,
    source: { topic: m.topic, partition: m.partition, offset: m.offset },
    ...(modelTag ? { model: modelTag } : {}),
    raw,
    ...(cut ? { rawTruncated: true, rawBytes: inputBytes } : {}),
  });
  const rawCut = inputBytes > limits.errorRawMaxBytes;
  const max = limits.errorRecordMaxBytes;
  const full = JSON.stringify(build(knownId, error, rawText, rawCut));
  if (max === undefined || Buffer.byteLength(full) <= max) return full;

  // Shrink what is not the input first only when it alone is too big; then fit raw into what is left.
  let recordId = knownId;
  let err = error;
  if (Buffer.byteLength(JSON.stringify(build(recordId, err, '', true))) > max / 2) {
    recordId = typeof knownId === 'string' && knownId.length > SHORT_TEXT_CHARS ? `${knownId.slice(0, SHORT_TEXT_CHARS)}…` : knownId;
    err = shortened(error);
  }
  const overhead = Buffer.byteLength(JSON.stringify(build(recordId, err, '', true)));
  const raw = rawText === null ? null : escapedPrefix(rawText, Math.max(2, max - overhead + 2));
  return JSON.stringify(build(recordId, err, raw, rawCut || (raw !== null && raw.length < rawText!.length)));
}

/** A small record for an output Kafka refused as too large: what it was for, without its contents. */
export function refusedOutputRecord(original: { readonly value: string | Buffer | null; readonly headers?: Record<string, unknown> }, reason: string): string {
  const header = (name: string): string | undefined => (original.headers?.[name] === undefined ? undefined : String(original.headers[name]));
  const source = header(HEADER_SOURCE) ?? '';
  // The source is `topic/partition/offset`; a topic name cannot hold a slash.
  const [topic, partition, offset] = source.split('/');
  const bytes = original.value === null ? 0 : Buffer.byteLength(original.value);
  return JSON.stringify({
    id: null,
    error: { code: ErrorCodes.MESSAGE_TOO_LARGE, message: `the output for this input (${bytes} bytes) was refused by Kafka: ${reason}` },
    source: { topic: topic ?? '', partition: Number(partition ?? -1), offset: offset ?? '' },
    ...(header(HEADER_MODEL) ? { model: header(HEADER_MODEL) } : {}),
    raw: null,
  });
}

function shortened(error: ErrorBody): ErrorBody {
  const details = Array.isArray(error.details) ? error.details.slice(0, MAX_DETAILS) : undefined;
  return {
    ...error,
    message: error.message.length > SHORT_TEXT_CHARS * 4 ? `${error.message.slice(0, SHORT_TEXT_CHARS * 4)}…` : error.message,
    ...(error.details === undefined ? {} : { details: details ?? '(omitted: too large)' }),
  };
}

/** The longest prefix of `bytes`, at most `max` bytes long, that does not split a UTF-8 sequence. */
function utf8Prefix(bytes: Buffer, max: number): string {
  if (bytes.length <= max) return bytes.toString('utf8');
  let end = max;
  // Back off continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/** The longest prefix of `text` whose JSON-escaped form takes at most `budget` UTF-8 bytes. */
function escapedPrefix(text: string, budget: number): string {
  let used = 2;
  let i = 0;
  while (i < text.length) {
    const code = text.codePointAt(i)!;
    const width = code > 0xffff ? 2 : 1;
    const cost = escapedBytes(text.slice(i, i + width), code);
    if (used + cost > budget) break;
    used += cost;
    i += width;
  }
  return text.slice(0, i);
}

function escapedBytes(ch: string, code: number): number {
  if (code < 0x80) return JSON.stringify(ch).length - 2;
  // Lone surrogates are written as \udXXX escapes by JSON.stringify.
  if (code >= 0xd800 && code <= 0xdfff) return 6;
  return Buffer.byteLength(ch);
}
