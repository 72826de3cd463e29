import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeTfExample, shortestFloat32, tfExampleDecoder } from '../../../runtime/codecs/tf-example.js';
import { parseInputSchema } from '../../../runtime/pipeline/input-schema.js';

/** Protobuf wire format by hand: tag = field << 3 | wire type; LEN fields are length-prefixed. */
function len(field: number, ...body: number[][]): number[] {
  const bytes = body.flat();
  return [(field << 3) | 2, bytes.length, ...bytes];
}
const text = (s: string): number[] => [...Buffer.from(s, 'utf8')];
const float32le = (x: number): number[] => [...Buffer.from(new Float32Array([x]).buffer)];
const entry = (key: string, feature: number[]): number[] => [...len(1, text(key)), ...len(2, feature)];

test('writes the tf.train.Example wire format: packed float_list and int64_list, bytes_list, under the map entry of each feature', () => {
  const bytes = Buffer.from(encodeTfExample({ a: 1.5 }, new Map([['a', 'float']])));
  // Example.features(1) { Features.feature(1) { key(1) "a", value(2) Feature.float_list(2) { value(1) packed [1.5f] } } }
  assert.deepEqual([...bytes], len(1, len(1, entry('a', len(2, len(1, float32le(1.5)))))));
  const ints = Buffer.from(encodeTfExample({ n: [1, 2, 300] }));
  assert.deepEqual([...ints], len(1, len(1, entry('n', len(3, len(1, [1, 2, 0xac, 0x02]))))));
  const s = Buffer.from(encodeTfExample({ s: 'hé' }));
  assert.deepEqual([...s], len(1, len(1, entry('s', len(1, len(1, text('hé')))))));
});

test('reads unpacked repeated floats too, as every protobuf reader must', () => {
  // float_list with two values written unpacked: tag (1 << 3 | 5) before each fixed32.
  const floatList = [0x0d, ...float32le(0.25), 0x0d, ...float32le(-2)];
  const bytes = Buffer.from(len(1, len(1, entry('v', len(2, floatList)))));
  const decoded = tfExampleDecoder(parseInputSchema({ v: 'VECTOR' }))(bytes);
  assert.deepEqual(decoded, { record: { v: [0.25, -2] } });
});

test('maps features to record values: one value → scalar, list columns keep lists, empty → null, bool from int64, id feature → id', () => {
  const decode = tfExampleDecoder(parseInputSchema({ x: 'DOUBLE', tags: 'ARRAY<STRING>', v: 'VECTOR', ok: 'BOOLEAN', n: 'INTEGER?' }));
  const bytes = encodeTfExample({ id: 'r1', x: 5.1, tags: ['only'], v: [3], ok: true, n: null, extra: [1, 2] });
  assert.deepEqual(decode(Buffer.from(bytes)), { record: { id: 'r1', x: 5.1, tags: ['only'], v: [3], ok: true, n: null, extra: [1, 2] } });
});

test('int64 beyond 2^53 becomes decimal text instead of losing digits; within range it is a number', () => {
  const decode = tfExampleDecoder([]);
  const bytes = encodeTfExample({ big: '9223372036854775807', small: '-9007199254740991', neg: '-9223372036854775808' }, new Map([['big', 'int64'], ['small', 'int64'], ['neg', 'int64']]));
  assert.deepEqual(decode(Buffer.from(bytes)), { record: { big: '9223372036854775807', small: -9007199254740991, neg: '-9223372036854775808' } });
  assert.throws(() => encodeTfExample({ big: '9223372036854775808' }, new Map([['big', 'int64']])), /does not fit in an int64/);
});

test('float32 values read as the shortest decimal that rounds to them', () => {
  assert.equal(shortestFloat32(Math.fround(5.1)), 5.1);
  assert.equal(shortestFloat32(Math.fround(0.1)), 0.1);
  assert.equal(shortestFloat32(Math.fround(1e-7)), 1e-7);
  assert.equal(shortestFloat32(Math.fround(16777217)), 16777216);
  fc.assert(
    fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (f) => {
      const shortest = shortestFloat32(f);
      assert.equal(Math.fround(shortest), f);
      assert.ok(Number(shortest.toPrecision(9)) === shortest, 'no more than the 9 digits a float32 needs');
    }),
  );
});

test('malformed protobuf and non-UTF-8 bytes are DECODE_ERROR with a reason', () => {
  const decode = tfExampleDecoder([]);
  const truncated = decode(Buffer.from([0x0a, 0x10, 0x01]));
  assert.ok('error' in truncated && truncated.error.code === 'DECODE_ERROR' && /^not a serialized tf\.train\.Example: index out of range/.test(truncated.error.message));
  const wrongWire = decode(Buffer.from([0x0f]));
  assert.ok('error' in wrongWire && wrongWire.error.code === 'DECODE_ERROR');
  const notUtf8 = decode(Buffer.from(len(1, len(1, entry('s', len(1, len(1, [0xc3, 0x28])))))));
  assert.deepEqual(notUtf8, { error: { code: 'DECODE_ERROR', message: 'feature "s": bytes_list value is not UTF-8 text' } });
});

test('what the encoder writes, the decoder reads back (records of text, integers, short decimals and lists)', () => {
  const value = fc.oneof(
    fc.string(),
    fc.integer(),
    // Decimals of up to 7 significant digits: float32 keeps them, and they are the shortest form of their float32.
    fc.integer({ min: -1e6, max: 1e6 }).map((n) => n / 100),
    fc.array(fc.string(), { minLength: 2, maxLength: 4 }),
    fc.array(fc.integer(), { minLength: 2, maxLength: 4 }),
  );
  const key = fc.string({ minLength: 1, maxLength: 6 }).filter((k) => k !== '__proto__');
  fc.assert(
    fc.property(fc.dictionary(key, value, { maxKeys: 5 }), (generated) => {
      const record = { ...generated };
      assert.deepEqual(tfExampleDecoder([])(Buffer.from(encodeTfExample(record))), { record });
    }),
  );
});
