import { HEADER_MODEL, HEADER_SOURCE_TIMESTAMP } from '../engine/messages.js';

/**
 * How `mlstream consume` shows one record: a short line for a person (prediction, its
 * probability, model@version and end-to-end latency; an error's code and message), or the
 * whole record as one JSON line for `--json` and pipes into jq.
 */
export interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Kafka timestamp of this record, ms since epoch as text. */
  readonly timestamp: string;
  readonly key: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly value: string | null;
}

export function jsonLine(r: ConsumedRecord): string {
  return `${JSON.stringify({ topic: r.topic, partition: r.partition, offset: r.offset, timestamp: Number(r.timestamp), key: r.key, headers: r.headers, value: parseOrText(r.value) })}\n`;
}

const ANSI = { red: '\u001b[31m', green: '\u001b[32m', dim: '\u001b[2m', reset: '\u001b[0m' } as const;

export interface PrettyOptions {
  readonly color: boolean;
}

/** `12:03:04.120 predictions/0@15 id=a1  spam 0.973  spam-text@3  12 ms` */
export function prettyLine(r: ConsumedRecord, opts: PrettyOptions): string {
  const paint = (color: keyof typeof ANSI, s: string): string => (opts.color ? `${ANSI[color]}${s}${ANSI.reset}` : s);
  const at = new Date(Number(r.timestamp)).toISOString().slice(11, 23);
  const where = paint('dim', `${at} ${r.topic}/${r.partition}@${r.offset}`);
  const body = parseOrText(r.value);
  const latency = latencyMs(r);
  const tail = [r.headers[HEADER_MODEL], latency === undefined ? undefined : `${latency} ms`].filter(Boolean).join('  ');
  let middle: string;
  if (isObject(body) && 'prediction' in body) {
    const p = probabilityOf(body);
    middle = `${paint('green', display(body.prediction))}${p === undefined ? '' : ` ${p.toFixed(3)}`}`;
  } else if (isObject(body) && isObject(body.error)) {
    middle = `${paint('red', String(body.error.code))} ${short(String(body.error.message), 100)}`;
  } else {
    middle = short(typeof body === 'string' ? body : JSON.stringify(body), 120);
  }
  const id = isObject(body) && body.id != null ? `id=${display(body.id)}` : r.key !== null ? `key=${r.key}` : '';
  return `${[where, id, middle, tail ? paint('dim', tail) : ''].filter(Boolean).join('  ')}\n`;
}

/** Output time minus the input's time, when the record says when its input was written. */
export function latencyMs(r: ConsumedRecord): number | undefined {
  const source = Number(r.headers[HEADER_SOURCE_TIMESTAMP]);
  const written = Number(r.timestamp);
  if (!Number.isFinite(source) || !Number.isFinite(written) || r.headers[HEADER_SOURCE_TIMESTAMP] === undefined) return undefined;
  return Math.max(0, written - source);
}

/** The probability of the predicted label, else the largest one (a raw prediction without labels). */
function probabilityOf(body: Record<string, unknown>): number | undefined {
  if (!isObject(body.probability)) return undefined;
  const probs = body.probability as Record<string, unknown>;
  const own = probs[String(body.prediction)];
  if (typeof own === 'number') return own;
  const values = Object.values(probs).filter((v): v is number => typeof v === 'number');
  return values.length ? Math.max(...values) : undefined;
}

function parseOrText(value: string | null): unknown {
  if (value === null) return null;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function display(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function short(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
