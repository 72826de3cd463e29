import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import errorSchema from '../../schemas/error.schema.json' with { type: 'json' };
import predictionSchema from '../../schemas/prediction.schema.json' with { type: 'json' };
import { startLocalBroker, type LocalBroker } from '../../scripts/broker/index.js';
import { fixture, readSparkCsv, skipWithoutFixtures } from '../helpers/fixtures.js';
import { collectUntil, produceAll, type Received } from '../helpers/kafka.js';
import { startRuntime, type RuntimeProcess } from '../helpers/runtime-process.js';

const FIXTURE = 'jpmml33-sentiment-lsvc';

test("the real PySpark sentiment pipeline predicts Spark's labels over the local broker, and every bad record lands on errors", { skip: skipWithoutFixtures, timeout: 180_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'mlstream-e2e-'));
  const modelDir = join(work, 'models', 'sentiment');
  cpSync(fixture(FIXTURE), modelDir, { recursive: true });
  writeFileSync(join(modelDir, 'config.json'), JSON.stringify({ input_schema: { Sentence: 'STRING' }, output_labels: { '0': '0', '1': '1' } }));

  const broker: LocalBroker = await startLocalBroker({
    topics: [{ name: 'messages', partitions: 3 }, { name: 'predictions' }, { name: 'errors' }],
  });
  let runtime: RuntimeProcess | undefined;
  t.after(async () => {
    await runtime?.stop();
    await broker.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const { header, rows } = readSparkCsv(join(fixture(FIXTURE), 'sample/input-Sentiment.csv'));
  const expected = readSparkCsv(join(fixture(FIXTURE), 'sample/expected-LinearSVCSentiment.csv')).rows.map((r) => r[0]!);
  const sentenceCol = header.indexOf('Sentence');
  assert.equal(rows.length, 1000);
  assert.equal(expected.length, rows.length);

  const good = rows.map((r, i) => ({ key: `s${i}`, value: JSON.stringify({ id: `s${i}`, Sentence: r[sentenceCol] }) }));
  const bad: Array<{ key: string; value: string | Buffer; code: string }> = [
    { key: 'bad-json', value: '{"id": "bad-json", "Sentence": ', code: 'DECODE_ERROR' },
    { key: 'bad-type', value: JSON.stringify({ id: 'bad-type', Sentence: 42 }), code: 'SCHEMA_VIOLATION' },
    { key: 'bad-missing', value: JSON.stringify({ id: 'bad-missing' }), code: 'SCHEMA_VIOLATION' },
    { key: 'bad-array', value: JSON.stringify([1, 2, 3]), code: 'SCHEMA_VIOLATION' },
    { key: 'bad-utf8', value: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), code: 'DECODE_ERROR' },
    { key: 'bad-null', value: 'null', code: 'SCHEMA_VIOLATION' },
  ];
  // Bad records are spread through the stream, not bunched at the end.
  const stream: Array<{ key: string; value: string | Buffer }> = [...good];
  bad.forEach((b, k) => stream.splice(100 + k * 150, 0, { key: b.key, value: b.value }));
  await produceAll(broker.bootstrap, 'messages', stream);

  runtime = startRuntime({
    KAFKA_BOOTSTRAP_SERVER: broker.bootstrap,
    MODELS_DIR: join(work, 'models'),
    MODEL_PIPELINE: 'sentiment',
    KAFKA_GROUP_ID: 'e2e',
  });
  await runtime.waitForLog((l) => l.msg === 'model package serving', 60_000);

  const total = stream.length;
  const seen = await collectUntil(broker.bootstrap, ['predictions', 'errors'], (s) => s.length >= total, 120_000);

  const byKey = new Map<string, Received[]>();
  for (const r of seen) byKey.set(r.key ?? '', [...(byKey.get(r.key ?? '') ?? []), r]);
  for (const m of stream) assert.equal(byKey.get(m.key)?.length, 1, `key ${m.key} appears ${byKey.get(m.key)?.length ?? 0} times across predictions ∪ errors`);
  assert.equal(seen.length, total);

  const ajv = new Ajv({ strict: false, allowUnionTypes: true });
  const validPrediction = ajv.compile(predictionSchema);
  const validError = ajv.compile(errorSchema);
  for (const r of seen) {
    const ok = r.topic === 'predictions' ? validPrediction(r.value) : validError(r.value);
    assert.ok(ok, `${r.topic} message does not match its schema: ${JSON.stringify(r.value)} ${ajv.errorsText(r.topic === 'predictions' ? validPrediction.errors : validError.errors)}`);
  }

  let mismatches = 0;
  good.forEach((g, i) => {
    const [out] = byKey.get(g.key)!;
    assert.equal(out!.topic, 'predictions', `${g.key} went to errors: ${JSON.stringify(out!.value)}`);
    const body = out!.value as { id: string; prediction: string; version: string };
    assert.equal(body.id, g.key);
    if (body.prediction !== expected[i]) mismatches++;
    assert.match(out!.headers['mlstream-source'] ?? '', /^messages\/\d\/\d+$/);
    assert.equal(out!.headers['mlstream-model'], `sentiment@${body.version}`);
  });
  assert.equal(mismatches, 0, `${mismatches} of 1000 predictions differ from Spark's`);

  for (const b of bad) {
    const [out] = byKey.get(b.key)!;
    assert.equal(out!.topic, 'errors');
    const body = out!.value as { error: { code: string; message: string }; source: { topic: string } };
    assert.equal(body.error.code, b.code, `${b.key}: ${JSON.stringify(body)}`);
    assert.ok(body.error.message.length > 0);
    assert.equal(body.source.topic, 'messages');
  }

  assert.equal(await runtime.stop(), 0, 'SIGTERM ends the runtime with exit code 0');
});
