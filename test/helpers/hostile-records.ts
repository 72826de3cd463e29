import fc from 'fast-check';
import { IRIS_FIELDS, irisRecords } from './iris.js';
import { haveSparkFixtures } from './fixtures.js';

/**
 * Generated hostile input for the iris package served with one more declared column,
 * `Count: INTEGER` (so that out-of-range integers have somewhere to go). Each record says
 * what the runtime must answer: an error code, or a prediction (records whose declared
 * columns are fine, whatever else they carry). Fixed seed: the same records every run.
 */
export const HOSTILE_INPUT_SCHEMA: Record<string, string> = { ...Object.fromEntries(IRIS_FIELDS.map((f) => [f, 'DOUBLE'])), Count: 'INTEGER' };
export const HOSTILE_OUTPUT_LABELS = { '0': 'setosa', '1': 'versicolor', '2': 'virginica' };
/** MAX_MESSAGE_BYTES the hostile runs use: big records either side of it are generated. */
export const HOSTILE_MAX_MESSAGE_BYTES = 64 * 1024;

export type Expected = 'DECODE_ERROR' | 'SCHEMA_VIOLATION' | 'MESSAGE_TOO_LARGE' | 'prediction';

export interface TestRecord {
  readonly key: string;
  readonly kind: string;
  /** The message value as produced; null is a tombstone. */
  readonly value: Buffer | null;
  readonly expect: Expected;
  /** Spark's label for the iris row behind a record expected to predict. */
  readonly label?: string;
}

type Fields = Record<string, unknown>;
interface Draft {
  kind: string;
  value: Buffer | string | null;
  expect: Expected;
  /** Index of the iris row it was built from, when it must predict. */
  row?: number;
}

const ROWS = 150;
// Read only when the fixtures are there: without them the tests using this module are skipped.
const irisRows = haveSparkFixtures ? irisRecords(ROWS) : [];

/** A valid record built from iris row `row`, with an in-range Count. */
const validFields = fc.tuple(fc.nat(ROWS - 1), fc.integer({ min: -2147483648, max: 2147483647 })).map(([row, count]) => {
  const { id: _id, ...cols } = irisRows[row]!.input;
  return { row, fields: { ...cols, Count: count } as Fields };
});

const json = (x: unknown): string => JSON.stringify(x);
const withId = (id: unknown, f: Fields): Fields => ({ id, ...f });
const declared = [...IRIS_FIELDS, 'Count'];

const wrongValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.boolean(),
  fc.constant(null),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
  fc.array(fc.double(), { maxLength: 4 }),
  fc.double().map((d) => String(d)),
);

function deep(depth: number, open: string, close: string, leaf = '1'): string {
  return open.repeat(depth) + leaf + close.repeat(depth);
}

function spliceBytes(text: string, at: number, bytes: number[]): Buffer {
  const b = Buffer.from(text);
  const i = Math.min(at, b.length);
  return Buffer.concat([b.subarray(0, i), Buffer.from(bytes), b.subarray(i)]);
}

const INVALID_UTF8 = [[0xff], [0xfe, 0xff], [0xc3, 0x28], [0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]];

const drafts: Record<string, fc.Arbitrary<Draft>> = {
  truncatedJson: fc.tuple(validFields, fc.double({ min: 0, max: 1, noNaN: true })).map(([v, cut]) => {
    const text = json(withId('x', v.fields));
    return { kind: 'invalid JSON (truncated)', value: text.slice(0, Math.max(1, Math.floor(text.length * cut) - 1)), expect: 'DECODE_ERROR' };
  }),
  notJson: fc
    .constantFrom("{'id': 'x'}", '{id: 1}', '{"id": "x",}', '{"id": "x"} /* c */', 'undefined', '{"id": "x" "Count": 1}', '<xml/>', '{"a":1}{"b":2}', '\u0000', '   ', '{"id": 0x10}', '{"id": .5}', '{"id": 01}')
    .map((t) => ({ kind: 'invalid JSON', value: t, expect: 'DECODE_ERROR' as const })),
  nonUtf8: fc.tuple(validFields, fc.nat(400), fc.constantFrom(...INVALID_UTF8)).map(([v, at, bytes]) => ({
    kind: 'non-UTF-8 bytes',
    value: spliceBytes(json(withId('x', v.fields)), at, bytes),
    expect: 'DECODE_ERROR' as const,
  })),
  randomBytes: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => ({ kind: 'random bytes', value: Buffer.concat([Buffer.from([0xff]), Buffer.from(b)]), expect: 'DECODE_ERROR' as const })),
  empty: fc.constantFrom<Draft>(
    { kind: 'empty value', value: '', expect: 'DECODE_ERROR' },
    { kind: 'null value (tombstone)', value: null, expect: 'DECODE_ERROR' },
  ),
  notObject: fc.oneof(fc.constant(null), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), fc.boolean(), fc.array(fc.integer(), { maxLength: 5 })).map((x) => ({
    kind: 'JSON that is not an object',
    value: json(x),
    expect: 'SCHEMA_VIOLATION' as const,
  })),
  wrongType: fc.tuple(validFields, fc.constantFrom(...declared), wrongValue).map(([v, field, bad]) => ({
    kind: 'wrong type',
    value: json(withId('x', { ...v.fields, [field]: bad })),
    expect: 'SCHEMA_VIOLATION' as const,
  })),
  wrongId: fc.tuple(validFields, fc.oneof(fc.constant(null), fc.boolean(), fc.constant(1.5), fc.constant({}), fc.constant([1]))).map(([v, id]) => ({
    kind: 'wrong id type',
    value: json(withId(id, v.fields)),
    expect: 'SCHEMA_VIOLATION' as const,
  })),
  missing: fc.tuple(validFields, fc.constantFrom('id', ...declared)).map(([v, field]) => {
    const r: Fields = withId('x', v.fields);
    delete r[field];
    return { kind: 'missing field', value: json(r), expect: 'SCHEMA_VIOLATION' as const };
  }),
  nanInfinity: fc.tuple(validFields, fc.constantFrom(...IRIS_FIELDS), fc.constantFrom('NaN', 'Infinity', '-Infinity', 'nan', 'inf')).map(([v, field, literal]) => ({
    kind: 'NaN/Infinity literal',
    value: json(withId('x', v.fields)).replace(`"${field}":${json(v.fields[field])}`, `"${field}":${literal}`),
    expect: 'DECODE_ERROR' as const,
  })),
  overflowToInfinity: fc.tuple(validFields, fc.constantFrom(...IRIS_FIELDS), fc.constantFrom('1e999', '-1e999', '1e400')).map(([v, field, literal]) => ({
    kind: 'number that parses to Infinity',
    value: json(withId('x', v.fields)).replace(`"${field}":${json(v.fields[field])}`, `"${field}":${literal}`),
    expect: 'SCHEMA_VIOLATION' as const,
  })),
  integerRange: fc
    .tuple(validFields, fc.constantFrom(2147483648, -2147483649, 1e20, 2 ** 53 + 2, -1e300, 1.5, 2147483647.5, 4294967296))
    .map(([v, count]) => ({ kind: 'INTEGER out of range', value: json(withId('x', { ...v.fields, Count: count })), expect: 'SCHEMA_VIOLATION' as const })),
  integerBounds: fc.tuple(validFields, fc.constantFrom(2147483647, -2147483648, 0, -0)).map(([v, count]) => ({
    kind: 'INTEGER at its bounds',
    value: json(withId('x', { ...v.fields, Count: count })),
    expect: 'prediction' as const,
    row: v.row,
  })),
  hugeString: fc.tuple(validFields, fc.constantFrom(...declared), fc.integer({ min: 10_000, max: 60_000 })).map(([v, field, n]) => ({
    kind: 'huge string in a declared column',
    value: json(withId('x', { ...v.fields, [field]: 'é'.repeat(n / 2) })),
    expect: 'SCHEMA_VIOLATION' as const,
  })),
  hugeArray: fc.tuple(validFields, fc.constantFrom(...declared), fc.integer({ min: 1000, max: 10_000 })).map(([v, field, n]) => ({
    kind: 'huge array in a declared column',
    value: json(withId('x', { ...v.fields, [field]: Array.from({ length: n }, (_, i) => i) })),
    expect: 'SCHEMA_VIOLATION' as const,
  })),
  tooLarge: fc.tuple(validFields, fc.integer({ min: HOSTILE_MAX_MESSAGE_BYTES + 1, max: HOSTILE_MAX_MESSAGE_BYTES * 3 })).map(([v, n]) => ({
    kind: 'larger than MAX_MESSAGE_BYTES',
    value: json(withId('x', { ...v.fields, padding: 'p'.repeat(n) })),
    expect: 'MESSAGE_TOO_LARGE' as const,
  })),
  deepInColumn: fc.tuple(validFields, fc.constantFrom(...declared), fc.integer({ min: 100, max: 20_000 }), fc.boolean()).map(([v, field, depth, arrays]) => ({
    kind: 'deep nesting in a declared column',
    value: json(withId('x', v.fields)).replace(`"${field}":${json(v.fields[field])}`, `"${field}":${arrays ? deep(depth, '[', ']') : deep(Math.floor(depth / 3), '{"a":', '}')}`),
    expect: 'SCHEMA_VIOLATION' as const,
  })),
  deepTopLevel: fc.integer({ min: 100, max: 30_000 }).map((depth) => ({ kind: 'deep nesting at the top', value: deep(depth, '[', ']'), expect: 'SCHEMA_VIOLATION' as const })),
  deepExtra: fc.tuple(validFields, fc.integer({ min: 1000, max: 25_000 })).map(([v, depth]) => ({
    kind: 'deep nesting in an extra field',
    value: json(withId('x', v.fields)).replace(/}$/, `,"extra":${deep(depth, '[', ']')}}`),
    expect: 'prediction' as const,
    row: v.row,
  })),
  protoKeys: fc.tuple(validFields, fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.constantFrom('{"polluted":true}', '{"prototype":{"polluted":true}}', '5', 'null', '[1]')).map(([v, key, payload]) => ({
    kind: `${key} key`,
    value: json(withId('x', v.fields)).replace(/^{/, `{"${key}":${payload},`),
    expect: 'prediction' as const,
    row: v.row,
  })),
  protoSmuggled: fc.tuple(validFields, fc.constantFrom(...IRIS_FIELDS)).map(([v, field]) => {
    const rest: Fields = { ...v.fields };
    const smuggled = rest[field];
    delete rest[field];
    return {
      kind: '__proto__ carrying a required column',
      value: json(withId('x', rest)).replace(/^{/, `{"__proto__":{${json(field)}:${json(smuggled)}},`),
      expect: 'SCHEMA_VIOLATION' as const,
    };
  }),
  extraFields: fc.tuple(validFields, fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !declared.includes(k) && k !== 'id'), fc.jsonValue({ maxDepth: 3 }), { minKeys: 1, maxKeys: 6 })).map(([v, extra]) => ({
    kind: 'extra fields',
    value: json({ ...extra, ...withId('x', v.fields) }),
    expect: 'prediction' as const,
    row: v.row,
  })),
  extraAndWrong: fc.tuple(validFields, fc.constantFrom(...declared), wrongValue, fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })).map(([v, field, bad, extra]) => ({
    kind: 'extra fields and a wrong type',
    value: json({ ...extra, ...withId('x', { ...v.fields, [field]: bad }) }),
    expect: 'SCHEMA_VIOLATION' as const,
  })),
  oddStrings: fc.tuple(validFields, fc.constantFrom('\\u0000', '\\ud800', '\\udfff\\ud800', '\\u202e', '\\uffff')).map(([v, esc]) => ({
    kind: 'NUL and lone surrogates in id and extras',
    value: json(withId('x', v.fields)).replace('"id":"x"', `"id":"i${esc}d","note":"${esc}${esc}"`),
    expect: 'prediction' as const,
    row: v.row,
  })),
};

/** Heavy kinds (tens of kilobytes each) are rarer, so a run stays small on the wire. */
const HEAVY = new Set(['hugeString', 'hugeArray', 'tooLarge', 'deepInColumn', 'deepTopLevel', 'deepExtra']);

const anyDraft = fc.oneof(...Object.entries(drafts).map(([name, arbitrary]) => ({ arbitrary, weight: HEAVY.has(name) ? 1 : 10 })));

/**
 * `hostile` generated records (seeded), with a well-formed iris record after every
 * `goodEvery` of them; keys `h<i>` are unique and are how outputs are matched back.
 */
export function hostileStream(hostile: number, goodEvery = 5, seed = 20_260_519): TestRecord[] {
  const out: TestRecord[] = [];
  const generated = fc.sample(anyDraft, { numRuns: hostile, seed });
  const goodRows = fc.sample(validFields, { numRuns: Math.ceil(hostile / goodEvery) + 1, seed: seed + 1 });
  generated.forEach((d, i) => {
    out.push(finish(`h${out.length}`, d));
    if (i % goodEvery === goodEvery - 1) {
      const g = goodRows[Math.floor(i / goodEvery)]!;
      out.push(finish(`h${out.length}`, { kind: 'well-formed', value: json(withId(`h${out.length}`, g.fields)), expect: 'prediction', row: g.row }));
    }
  });
  return out;
}

function finish(key: string, d: Draft): TestRecord {
  const value = d.value === null ? null : Buffer.isBuffer(d.value) ? d.value : Buffer.from(d.value);
  return { key, kind: d.kind, value, expect: d.expect, ...(d.row !== undefined ? { label: irisRows[d.row]!.expectedLabel } : {}) };
}
