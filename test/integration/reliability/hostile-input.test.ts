import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLocalBroker } from '../../../scripts/broker/index.js';
import { account, readAll, summary, waitUntilCommitted } from '../../helpers/delivery.js';
import { skipWithoutFixtures } from '../../helpers/fixtures.js';
import { HOSTILE_INPUT_SCHEMA, HOSTILE_MAX_MESSAGE_BYTES, HOSTILE_OUTPUT_LABELS, hostileStream } from '../../helpers/hostile-records.js';
import { IRIS_FIXTURE } from '../../helpers/iris.js';
import { produceAll } from '../../helpers/kafka.js';
import { tempDir, writeFixturePackage } from '../../helpers/packages.js';
import { startRuntime } from '../../helpers/runtime-process.js';
import { rmSync } from 'node:fs';

const GROUP = 'hostile';

test('10 000 generated hostile records interleaved with good ones, through Kafka and a runtime with its dashboard and metrics on: every bad one lands on errors with its code and a reason, every good one is predicted, and the runtime keeps serving', { skip: skipWithoutFixtures, timeout: 120_000 }, async (t) => {
  const work = tempDir('mlstream-hostile-');
  const modelsDir = join(work, 'models');
  writeFixturePackage(join(modelsDir, 'iris'), IRIS_FIXTURE, { input_schema: HOSTILE_INPUT_SCHEMA, output_labels: HOSTILE_OUTPUT_LABELS });
  const broker = await startLocalBroker({ topics: [{ name: 'messages', partitions: 3 }, { name: 'predictions', partitions: 3 }, { name: 'errors', partitions: 3 }] });
  const boot = broker.brokers[0]!;
  const runtime = startRuntime({
    KAFKA_BOOTSTRAP_SERVER: broker.bootstrap,
    MODELS_DIR: modelsDir,
    MODEL_PIPELINE: 'iris',
    KAFKA_GROUP_ID: GROUP,
    MAX_MESSAGE_BYTES: String(HOSTILE_MAX_MESSAGE_BYTES),
    HTTP_PORT: '0',
  });
  t.after(async () => {
    await runtime.stop();
    await broker.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const stream = hostileStream(10_000, 5, 7_654_321);
  await produceAll(boot, 'messages', stream.map((r) => ({ key: r.key, value: r.value })));
  const http = await runtime.waitForLog((l) => l.msg === 'http listening', 60_000);
  await waitUntilCommitted(boot, GROUP, 'messages', 90_000);

  const report = account(stream.map((r) => r.key), await readAll(boot, ['predictions', 'errors']));
  assert.deepEqual(report.missing, [], summary(report));
  assert.equal(report.duplicates, 0, `no restart repeated anything: ${summary(report)}`);
  const wrong: string[] = [];
  for (const r of stream) {
    const [out] = report.byKey.get(r.key)!;
    const body = out!.value as { prediction?: unknown; error?: { code?: string; message?: string } };
    const got = out!.topic === 'predictions' ? 'prediction' : body.error?.code;
    if (got !== r.expect) wrong.push(`${r.key} (${r.kind}): expected ${r.expect}, got ${got}`);
    else if (r.expect === 'prediction' && body.prediction !== r.label) wrong.push(`${r.key} (${r.kind}): predicted ${String(body.prediction)}, Spark says ${r.label}`);
    else if (r.expect !== 'prediction' && !(body.error?.message && body.error.message.length > 0)) wrong.push(`${r.key}: no reason given`);
  }
  assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} records answered wrongly`);

  assert.equal(runtime.child.exitCode, null, 'the runtime is still running');
  const health = await fetch(`http://127.0.0.1:${String(http.port)}/healthz`);
  assert.equal(health.status, 200, 'and healthy');
  assert.ok(!runtime.logs.some((l) => /"level":(50|60)/.test(l) && !/LeaveGroup/.test(l)), 'no error was logged');
  assert.equal(await runtime.stop(), 0);
});
