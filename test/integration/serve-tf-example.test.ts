import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLocalBroker, type LocalBroker } from '../../scripts/broker/index.js';
import { encodeTfExample } from '../../runtime/codecs/tf-example.js';
import { runCli } from '../helpers/cli-process.js';
import { fixture, readSparkCsv, skipWithoutFixtures } from '../helpers/fixtures.js';
import { IRIS_FIELDS, IRIS_FIXTURE, IRIS_PACKAGE, installIrisPackage } from '../helpers/iris.js';
import { collectUntil, produceAll, type Received } from '../helpers/kafka.js';
import { startRuntime, type RuntimeProcess } from '../helpers/runtime-process.js';

/**
 * A tf.train.Example whose "id" feature holds bytes that are not UTF-8, written by hand
 * from the wire format: Example.features(1) → Features.feature(1) map entry {key(1) "id",
 * value(2) Feature.bytes_list(1) → BytesList.value(1) [0xff]}.
 */
const NON_UTF8_EXAMPLE = Buffer.from([0x0a, 0x0d, 0x0a, 0x0b, 0x0a, 0x02, 0x69, 0x64, 0x12, 0x05, 0x0a, 0x03, 0x0a, 0x01, 0xff]);

test('a tf.train.Example stream written by `mlstream produce --format tf-example` is served end to end with Spark\'s numbers; malformed protobuf lands on errors', { skip: skipWithoutFixtures, timeout: 180_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'mlstream-tfx-'));
  const models = join(work, 'models');
  installIrisPackage(models);
  const packageDir = join(models, IRIS_PACKAGE);
  writeFileSync(
    join(packageDir, 'config.json'),
    JSON.stringify({
      input_schema: Object.fromEntries(IRIS_FIELDS.map((f) => [f, 'DOUBLE'])),
      output_labels: { '0': 'setosa', '1': 'versicolor', '2': 'virginica' },
      input_format: 'tf-example',
    }),
  );

  const broker: LocalBroker = await startLocalBroker({ topics: [{ name: 'messages', partitions: 3 }, { name: 'predictions' }, { name: 'errors' }] });
  let runtime: RuntimeProcess | undefined;
  t.after(async () => {
    await runtime?.stop();
    await broker.stop();
    rmSync(work, { recursive: true, force: true });
  });

  runtime = startRuntime({ KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, MODELS_DIR: models, MODEL_PIPELINE: IRIS_PACKAGE, KAFKA_GROUP_ID: 'tfx-e2e' });
  await runtime.waitForLog((l) => l.msg === 'model package serving', 60_000);

  const input = join(fixture(IRIS_FIXTURE), 'sample/input-Iris.csv');
  const produced = await runCli(['produce', input, '--format', 'tf-example', '--package', packageDir, '--bootstrap-server', broker.bootstrap]);
  assert.equal(produced.code, 0, produced.stderr);
  assert.match(produced.stdout, /^produced 150 records to messages: 150 acknowledged, 0 failed, 0 skipped/);

  const bad: Array<{ key: string; value: Buffer; code: string; message: RegExp }> = [
    { key: 'truncated', value: Buffer.from([0x0a, 0x10, 0x01]), code: 'DECODE_ERROR', message: /^not a serialized tf\.train\.Example: index out of range/ },
    { key: 'json-text', value: Buffer.from(JSON.stringify({ id: 'j', Sepal_Length: 1 })), code: 'DECODE_ERROR', message: /^not a serialized tf\.train\.Example/ },
    { key: 'not-utf8', value: NON_UTF8_EXAMPLE, code: 'DECODE_ERROR', message: /^feature "id": bytes_list value is not UTF-8 text$/ },
    { key: 'missing-column', value: Buffer.from(encodeTfExample({ id: 'm', Sepal_Length: 5.1, Sepal_Width: 3.5, Petal_Length: 1.4 })), code: 'SCHEMA_VIOLATION', message: /Petal_Width/ },
    { key: 'two-values', value: Buffer.from(encodeTfExample({ id: 'w', Sepal_Length: [5.1, 5.2], Sepal_Width: 3.5, Petal_Length: 1.4, Petal_Width: 0.2 })), code: 'SCHEMA_VIOLATION', message: /Sepal_Length must be number/ },
  ];
  await produceAll(broker.bootstrap, 'messages', bad.map(({ key, value }) => ({ key, value })));

  const total = 150 + bad.length;
  const seen = await collectUntil(broker.bootstrap, ['predictions', 'errors'], (s) => s.length >= total, 120_000);
  assert.equal(seen.length, total);
  const byKey = new Map<string, Received>(seen.map((r) => [r.key ?? '', r]));
  assert.equal(byKey.size, total, 'one output per input');

  const { header, rows } = readSparkCsv(join(fixture(IRIS_FIXTURE), 'sample/expected-NaiveBayesIris.csv'));
  rows.forEach((expected, i) => {
    const id = `input-Iris.csv:${i + 1}`;
    const out = byKey.get(id);
    assert.equal(out?.topic, 'predictions', `${id}: ${JSON.stringify(out?.value)}`);
    const body = out!.value as { id: string; prediction: string; probability: Record<string, number> };
    assert.equal(body.id, id);
    assert.equal(body.prediction, expected[0], `${id} predicted ${body.prediction}, Spark says ${expected[0]}`);
    for (let k = 1; k < header.length; k++) {
      const label = header[k]!.replace(/^probability\((.*)\)$/, '$1');
      assert.ok(Math.abs(body.probability[label]! - Number(expected[k])) < 1e-9, `${id} probability(${label}) ${body.probability[label]} vs Spark's ${expected[k]}`);
    }
  });

  for (const b of bad) {
    const out = byKey.get(b.key);
    assert.equal(out?.topic, 'errors', b.key);
    const body = out!.value as { error: { code: string; message: string } };
    assert.equal(body.error.code, b.code, `${b.key}: ${JSON.stringify(body)}`);
    assert.match(body.error.message, b.message, b.key);
  }
});
