import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Ajv } from 'ajv';
import type { TopicMessages } from 'kafkajs';
import { decodeJson } from '../../runtime/codecs/index.js';
import { refusedOutputRecord } from '../../runtime/engine/error-record.js';
import { processBatch } from '../../runtime/engine/batch.js';
import type { InputMessage } from '../../runtime/engine/messages.js';
import { splitRequests } from '../../runtime/kafka/delivery.js';
import { loadPackage } from '../../runtime/packages/package.js';
import { builtinRegistry } from '../../runtime/stages/index.js';
import { skipWithoutFixtures } from '../helpers/fixtures.js';
import { IRIS_CONFIG, tempDir, writeFixturePackage } from '../helpers/packages.js';
import errorSchema from '../../schemas/error.schema.json' with { type: 'json' };

const validErrorRecord = new Ajv({ strict: false }).compile(errorSchema);

function assertErrorRecord(value: string): void {
  assert.ok(validErrorRecord(JSON.parse(value)), JSON.stringify(validErrorRecord.errors));
}

/** Bounded outputs: error records under their cap whatever the input, produce requests under theirs, big integer ids exact. */
const work = tempDir('mlstream-error-record-');
after(() => rmSync(work, { recursive: true, force: true }));

const CAP = 16_384;
const limits = { maxMessageBytes: 2 * 1024 * 1024, errorRawMaxBytes: 4096, errorRecordMaxBytes: CAP };

function input(value: Buffer, offset: number): InputMessage {
  return { topic: 'messages', partition: 0, offset: String(offset), key: null, value };
}

test('250 inputs of 4 KB of control bytes give 250 error records (NO_MODEL: no package is given), each under the cap, raw a true prefix cut after escaping', async () => {
  const bytes = Buffer.alloc(4096, 0x01);
  const result = await processBatch(Array.from({ length: 250 }, (_, i) => input(bytes, i)), undefined, limits);
  assert.equal(result.errors.length, 250);
  for (const e of result.errors) {
    assert.ok(Buffer.byteLength(e.value) <= CAP, `${Buffer.byteLength(e.value)} bytes`);
    assertErrorRecord(e.value);
    const body = JSON.parse(e.value) as { error: { code: string }; raw: string; rawTruncated?: boolean; rawBytes?: number };
    assert.equal(body.error.code, 'NO_MODEL');
    assert.ok(body.raw.length > 1000 && body.raw.length < 4096, `raw keeps ${body.raw.length} characters`);
    assert.equal(body.raw, '\u0001'.repeat(body.raw.length));
    assert.equal(body.rawTruncated, true);
    assert.equal(body.rawBytes, 4096);
  }
});

test('a 1,040,024-byte input with a 1 MiB raw limit still gives an error record under the cap', async () => {
  const padded = Buffer.from(`{"id":"big","text":"${'\u0002'.repeat(1_040_000)}"}}}`);
  assert.equal(padded.length, 1_040_024);
  const result = await processBatch([input(padded, 7)], undefined, { ...limits, errorRawMaxBytes: 1024 * 1024 });
  const [e] = result.errors;
  assert.ok(Buffer.byteLength(e!.value) <= CAP, `${Buffer.byteLength(e!.value)} bytes`);
  const body = JSON.parse(e!.value) as { raw: string; rawTruncated: boolean; rawBytes: number; source: { offset: string } };
  assert.ok(padded.toString('utf8').startsWith(body.raw));
  assert.deepEqual([body.rawTruncated, body.rawBytes, body.source.offset], [true, 1_040_024, '7']);
});

test('an id of a megabyte is shortened so the record fits; multibyte and lone surrogate raw text is never split', async () => {
  const hugeId = JSON.stringify({ id: 'x'.repeat(1_000_000) });
  const [big] = (await processBatch([input(Buffer.from(hugeId), 1)], undefined, { ...limits, errorRawMaxBytes: 1 << 20 })).errors;
  assert.ok(Buffer.byteLength(big!.value) <= CAP);
  assertErrorRecord(big!.value);
  const emoji = Buffer.from(`not json ${'😀é\ud800'.repeat(5000)}`);
  const [e] = (await processBatch([input(emoji, 2)], undefined, { ...limits, errorRawMaxBytes: 1 << 20 })).errors;
  assert.ok(Buffer.byteLength(e!.value) <= CAP);
  const raw = (JSON.parse(e!.value) as { raw: string }).raw;
  assert.ok(emoji.toString('utf8').startsWith(raw), 'a prefix of the decoded input');
  assert.ok(!/[\ud800-\udbff]$/.test(raw) || raw.endsWith('\ud800'), 'no half of a surrogate pair at the end');
});

test('an integer id beyond 2^53 is kept as the digits the producer wrote, in predictions and error records', { skip: skipWithoutFixtures }, async () => {
  assert.deepEqual(decodeJson(Buffer.from('{"id": 12345678901234567890}')), { record: { id: '12345678901234567890' } });
  assert.deepEqual(decodeJson(Buffer.from('{"id": 42}')), { record: { id: 42 } });
  const model = await loadPackage(writeFixturePackage(join(work, 'iris'), 'jpmml33-iris-nb', IRIS_CONFIG), builtinRegistry(), 'iris');
  try {
    const good = '{"id": 12345678901234567890, "Sepal_Length": 5.1, "Sepal_Width": 3.5, "Petal_Length": 1.4, "Petal_Width": 0.2}';
    const bad = '{"id": -98765432109876543210, "Sepal_Length": "x", "Sepal_Width": 3.5, "Petal_Length": 1.4, "Petal_Width": 0.2}';
    const result = await processBatch([input(Buffer.from(good), 0), input(Buffer.from(bad), 1)], model, limits);
    assert.match(result.predictions[0]!.value, /^\{"id":"12345678901234567890",/);
    assert.equal(result.records[0]!.id, '12345678901234567890');
    assert.match(result.errors[0]!.value, /^\{"id":"-98765432109876543210",/);
    assertErrorRecord(result.errors[0]!.value);
  } finally {
    await model.pipeline.dispose();
  }
});

test('a slice of outputs is split into requests under the byte limit, in order, each message once; a larger message goes alone', () => {
  const msg = (n: number, size: number) => ({ key: `k${n}`, value: 'v'.repeat(size), headers: { 'mlstream-source': `messages/0/${n}` } });
  const topics: TopicMessages[] = [
    { topic: 'predictions', messages: Array.from({ length: 300 }, (_, i) => msg(i, 3000)) },
    { topic: 'errors', messages: [msg(300, 50_000), msg(301, 10), msg(302, 200_000)] },
  ];
  const requests = splitRequests(topics, 100_000);
  const flat = requests.flatMap((r) => r.flatMap((t) => t.messages.map((m) => `${t.topic}:${String(m.key)}`)));
  assert.deepEqual(flat, [...topics[0]!.messages.map((m) => `predictions:${String(m.key)}`), ...topics[1]!.messages.map((m) => `errors:${String(m.key)}`)]);
  for (const r of requests) {
    const bytes = r.flatMap((t) => t.messages).reduce((s, m) => s + String(m.value).length + 100, 0);
    const alone = r.length === 1 && r[0]!.messages.length === 1;
    assert.ok(bytes <= 100_000 + 100 * 40 || alone, `a request of ${bytes} bytes`);
  }
  assert.ok(requests.some((r) => r.length === 1 && r[0]!.messages.length === 1 && String(r[0]!.messages[0]!.key) === 'k302'), 'the 200 kB message alone');
  assert.ok(requests.length >= 10);
});

test('the record replacing an output Kafka refused is small, names the input it was for, and matches the error schema', () => {
  const value = refusedOutputRecord({ value: 'x'.repeat(5_000_000), headers: { 'mlstream-source': 'messages/2/41', 'mlstream-model': 'iris@abc' } }, 'MESSAGE_TOO_LARGE');
  assert.ok(value.length < 400);
  assertErrorRecord(value);
  const body = JSON.parse(value) as { error: { code: string; message: string }; source: unknown; model: string };
  assert.equal(body.error.code, 'MESSAGE_TOO_LARGE');
  assert.match(body.error.message, /5000000 bytes/);
  assert.deepEqual(body.source, { topic: 'messages', partition: 2, offset: '41' });
  assert.equal(body.model, 'iris@abc');
});
