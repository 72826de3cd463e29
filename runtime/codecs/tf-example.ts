import type protobuf from 'protobufjs';
import { ErrorCodes } from '../errors.js';
import { lazy, lazyRequire } from '../lazy.js';
import type { InputField, InputType } from '../pipeline/input-schema.js';
import type { Decoded, Decoder } from './index.js';

/**
 * tf.train.Example, built with protobufjs reflection from the field numbers TensorFlow's
 * example.proto and feature.proto define:
 *   Example   { Features features = 1 }
 *   Features  { map<string, Feature> feature = 1 }
 *   Feature   { oneof kind { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3 } }
 *   BytesList { repeated bytes value = 1 }
 *   FloatList { repeated float value = 1 [packed] }
 *   Int64List { repeated int64 value = 1 [packed] }
 * The decoder also accepts unpacked repeated scalars, as every protobuf parser must.
 */
function exampleType(): protobuf.Type {
  const protobuf = loadProtobuf();
  const packed = { packed: true };
  const root = new protobuf.Root().define('tensorflow');
  root.add(new protobuf.Type('BytesList').add(new protobuf.Field('value', 1, 'bytes', 'repeated')));
  root.add(new protobuf.Type('FloatList').add(new protobuf.Field('value', 1, 'float', 'repeated', undefined, packed)));
  root.add(new protobuf.Type('Int64List').add(new protobuf.Field('value', 1, 'int64', 'repeated', undefined, packed)));
  root.add(
    new protobuf.Type('Feature')
      .add(new protobuf.Field('bytesList', 1, 'BytesList'))
      .add(new protobuf.Field('floatList', 2, 'FloatList'))
      .add(new protobuf.Field('int64List', 3, 'Int64List'))
      .add(new protobuf.OneOf('kind', ['bytesList', 'floatList', 'int64List'])),
  );
  root.add(new protobuf.Type('Features').add(new protobuf.MapField('feature', 1, 'string', 'Feature')));
  root.add(new protobuf.Type('Example').add(new protobuf.Field('features', 1, 'Features')));
  return root.lookupType('tensorflow.Example');
}

const loadProtobuf = lazyRequire<typeof protobuf>('protobufjs');
/** Built on first use: a runtime that serves no tf.train.Example package never loads protobufjs. */
const Example = lazy(exampleType);

interface FeatureMessage {
  bytesList?: { value: Uint8Array[] } | null;
  floatList?: { value: number[] } | null;
  int64List?: { value: (number | protobuf.Long)[] } | null;
}

interface ExampleMessage {
  features?: { feature?: Record<string, FeatureMessage> } | null;
}

/** How a feature's list becomes a record value for the column it feeds. */
type Shape = 'scalar' | 'list' | 'boolean';

const utf8 = new TextDecoder('utf-8', { fatal: true });

class FeatureError extends Error {}

/**
 * A decoder for one package's columns: ARRAY<STRING> and VECTOR columns keep their lists
 * (even of one value); every other feature becomes a scalar when its list holds exactly
 * one value, `null` when it is empty, and stays an array otherwise (so the schema check
 * reports it). BOOLEAN columns take int64 0/1, tf.train.Example having no bool list.
 */
export function tfExampleDecoder(fields: readonly InputField[]): Decoder {
  const shapes = new Map<string, Shape>(fields.map((f) => [f.name, shapeOf(f.type)]));
  return (value) => decodeExample(value, shapes);
}

function shapeOf(type: InputType): Shape {
  if (type === 'ARRAY<STRING>' || type === 'VECTOR') return 'list';
  return type === 'BOOLEAN' ? 'boolean' : 'scalar';
}

function decodeExample(value: Buffer, shapes: ReadonlyMap<string, Shape>): Decoded {
  let message: ExampleMessage;
  try {
    message = Example().decode(value) as unknown as ExampleMessage;
  } catch (e) {
    return { error: { code: ErrorCodes.DECODE_ERROR, message: `not a serialized tf.train.Example: ${(e as Error).message}` } };
  }
  const features = message.features?.feature ?? {};
  const record: Record<string, unknown> = {};
  for (const name of Object.keys(features)) {
    if (name === '__proto__') continue;
    try {
      const values = featureValues(features[name]!);
      record[name] = values === null ? null : shaped(values, shapes.get(name) ?? 'scalar');
    } catch (e) {
      if (!(e instanceof FeatureError)) throw e;
      return { error: { code: ErrorCodes.DECODE_ERROR, message: `feature "${name}": ${e.message}` } };
    }
  }
  return { record };
}

function featureValues(f: FeatureMessage): unknown[] | null {
  if (f.bytesList) return f.bytesList.value.map(bytesToString);
  if (f.floatList) return f.floatList.value.map(shortestFloat32);
  if (f.int64List) return f.int64List.value.map(int64ToJs);
  return null;
}

function shaped(values: unknown[], shape: Shape): unknown {
  if (shape === 'list') return values;
  if (values.length === 0) return null;
  if (values.length > 1) return values;
  const v = values[0];
  if (shape === 'boolean' && (v === 0 || v === 1)) return v === 1;
  return v;
}

function bytesToString(b: Uint8Array): string {
  try {
    return utf8.decode(b);
  } catch {
    throw new FeatureError('bytes_list value is not UTF-8 text');
  }
}

/**
 * float_list holds float32s. Each is read as the shortest decimal that rounds to the same
 * float32 (5.1f is 5.1, not 5.099999904632568), which is the number the writer meant and
 * what the same record sent as JSON would carry.
 */
export function shortestFloat32(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(x.toPrecision(digits));
    if (Math.fround(candidate) === x) return candidate;
  }
  return x;
}

/** int64 beyond ±(2^53 − 1) would lose digits as a JS number: it becomes a decimal string. */
function int64ToJs(v: number | protobuf.Long): number | string {
  if (typeof v === 'number') return v;
  const big = BigInt.asIntN(64, (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0));
  const n = Number(big);
  return Number.isSafeInteger(n) ? n : big.toString();
}

/** An int64 given as decimal text, as the {low, high} pair protobufjs writes. */
function int64FromText(text: string): { low: number; high: number; unsigned: boolean } {
  const value = BigInt(text);
  if (value < -(2n ** 63n) || value >= 2n ** 63n) throw new Error(`${text} does not fit in an int64`);
  const big = BigInt.asUintN(64, value);
  return { low: Number(big & 0xffffffffn) | 0, high: Number(big >> 32n) | 0, unsigned: false };
}

/** Which list a value is written to; from the package's input_schema when known. */
export type FeatureKind = 'bytes' | 'float' | 'int64';

export function kindForType(type: InputType): FeatureKind {
  switch (type) {
    case 'STRING':
    case 'ARRAY<STRING>':
      return 'bytes';
    case 'INTEGER':
    case 'LONG':
    case 'BOOLEAN':
      return 'int64';
    default:
      return 'float';
  }
}

/**
 * Serializes a record as a tf.train.Example: one feature per field. A field's list kind
 * comes from `kinds` (the package's input_schema) or else from its JavaScript values:
 * text → bytes_list, integers and booleans → int64_list, other numbers → float_list.
 * `null` becomes an empty list. Throws on values the format cannot hold (nested objects
 * other than a sparse vector, mixed lists).
 */
export function encodeTfExample(record: Record<string, unknown>, kinds?: ReadonlyMap<string, FeatureKind>): Uint8Array {
  const feature: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(record)) {
    if (value === undefined) continue;
    const list = value === null ? [] : Array.isArray(value) ? value : isSparse(value) ? densify(value) : [value];
    const kind = kinds?.get(name) ?? inferKind(name, list);
    feature[name] = { [`${kind}List`]: { value: list.map((v) => listValue(name, v, kind)) } };
  }
  return Example().encode({ features: { feature } }).finish();
}

function inferKind(name: string, list: unknown[]): FeatureKind {
  if (list.length === 0) return 'float';
  if (list.every((v) => typeof v === 'string')) return 'bytes';
  if (list.every((v) => typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v)))) return 'int64';
  if (list.every((v) => typeof v === 'number')) return 'float';
  throw new Error(`field "${name}": a tf.train.Example feature holds text, integers or floats, not ${describeValues(list)}`);
}

function listValue(name: string, v: unknown, kind: FeatureKind): unknown {
  if (kind === 'bytes') {
    if (typeof v === 'object' && v !== null) throw new Error(`field "${name}" holds a nested ${Array.isArray(v) ? 'array' : 'object'}`);
    return Buffer.from(String(v), 'utf8');
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (kind === 'int64' && typeof v === 'string' && /^[+-]?\d+$/.test(v)) return int64FromText(v);
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (Number.isNaN(n) && v !== 'NaN') throw new Error(`field "${name}": ${JSON.stringify(v)} is not a number`);
  if (kind === 'int64' && !Number.isInteger(n)) throw new Error(`field "${name}": ${JSON.stringify(v)} is not an integer`);
  return n;
}

function isSparse(v: unknown): v is { size: number; indices: number[]; values: number[] } {
  return typeof v === 'object' && v !== null && Array.isArray((v as { indices?: unknown }).indices) && Array.isArray((v as { values?: unknown }).values);
}

function densify(v: { size: number; indices: number[]; values: number[] }): number[] {
  const out = new Array<number>(v.size).fill(0);
  v.indices.forEach((i, k) => (out[i] = v.values[k]!));
  return out;
}

function describeValues(list: unknown[]): string {
  return [...new Set(list.map((v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)))].join(' and ');
}
