import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLocalBroker } from '../../scripts/broker/index.js';
import { collectUntil, produceAll } from '../helpers/kafka.js';
import { tempDir } from '../helpers/packages.js';
import { startRuntime } from '../helpers/runtime-process.js';

test('a plugin stage named with --plugin serves a package end to end', { timeout: 120_000 }, async (t) => {
  const work = tempDir('mlstream-plugin-');
  const dir = join(work, 'models', 'keywords');
  mkdirSync(join(dir, 'metadata'), { recursive: true });
  writeFileSync(join(dir, 'metadata/part-00000'), JSON.stringify({ class: 'example.KeywordModel', uid: 'kw_1', paramMap: { inputCol: 'text', keywords: ['free', 'winner'] } }));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ input_schema: { text: 'STRING' }, output_labels: { '0': 'ok', '1': 'suspicious' } }));
  const broker = await startLocalBroker({ topics: [{ name: 'messages' }, { name: 'predictions' }, { name: 'errors' }] });
  const runtime = startRuntime({ KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, MODELS_DIR: join(work, 'models'), KAFKA_GROUP_ID: 'plugin' }, ['--plugin', './playground/plugins/keyword-model.ts']);
  t.after(async () => {
    await runtime.stop();
    await broker.stop();
    rmSync(work, { recursive: true, force: true });
  });
  await runtime.waitForLog((l) => l.msg === 'model package serving');
  const texts = { a: 'You are a WINNER, claim your free prize', b: 'Lunch at noon?', c: 'free parking' };
  await produceAll(broker.bootstrap, 'messages', Object.entries(texts).map(([id, text]) => ({ key: id, value: JSON.stringify({ id, text }) })));
  const seen = await collectUntil(broker.bootstrap, ['predictions', 'errors'], (s) => s.length >= 3, 30_000);
  const byId = Object.fromEntries(seen.map((r) => [r.key, r.value as { prediction: string; probability: Record<string, number> }]));
  assert.equal(seen.filter((r) => r.topic === 'predictions').length, 3);
  assert.equal(byId.a!.prediction, 'suspicious');
  assert.equal(byId.a!.probability.suspicious, 0.75, 'two keyword hits: 1 - 0.5^2');
  assert.equal(byId.b!.prediction, 'ok');
  assert.equal(byId.c!.prediction, 'suspicious');
  assert.equal(byId.c!.probability.ok, 0.5);
});

test('a plugin that cannot be loaded stops serve with a clear message and exit code 2', { timeout: 30_000 }, async () => {
  const runtime = startRuntime({ KAFKA_BOOTSTRAP_SERVER: '127.0.0.1:9', MODELS_DIR: tempDir() }, ['--plugin', './nowhere/stages.js']);
  const line = await runtime.waitForLog((l) => l.msg === 'plugin refused');
  assert.match(String(line.reason), /cannot load plugin "\.\/nowhere\/stages\.js"/);
  assert.equal(await Promise.race([runtime.exited(), new Promise((r) => setTimeout(() => r('still running'), 10_000))]), 2);
  await runtime.stop();
});
