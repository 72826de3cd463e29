import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLocalBroker } from '../../scripts/broker/index.js';
import { skipWithoutFixtures } from '../helpers/fixtures.js';
import { eventually, getJson } from '../helpers/http.js';
import { collectUntil, produceAll, testKafka, type Received } from '../helpers/kafka.js';
import { IRIS_CONFIG, irisRecord, tempDir, writeFixturePackage } from '../helpers/packages.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';
import { startRuntime } from '../helpers/runtime-process.js';

/** `models/iris/<n>/` for each n: the real PySpark iris export, one version folder each. */
function versionedIris(models: string, versions: number[], root?: object): void {
  for (const v of versions) writeFixturePackage(join(models, 'iris', String(v)), 'jpmml33-iris-nb', { ...IRIS_CONFIG, description: `version ${v}` });
  if (root) writeFileSync(join(models, 'iris', 'config.json'), JSON.stringify(root));
}

interface Body {
  id: string;
  version: string;
  model: string;
}

function idsOnce(seen: readonly Received[], n: number): Map<string, Received> {
  const byId = new Map<string, Received>();
  for (const r of seen) {
    const id = (r.value as Body).id;
    assert.ok(!byId.has(id), `${id} came back twice`);
    byId.set(id, r);
  }
  for (let i = 0; i < n; i++) assert.ok(byId.has(`r${i}`), `r${i} never came back`);
  return byId;
}

test(
  'a 10% canary by key hash measures within ±3 points over 10k records and a key always sees one version; the shadow version answers every record on the shadow topic only',
  { skip: skipWithoutFixtures, timeout: 300_000 },
  async (t) => {
    const work = tempDir('mlstream-canary-');
    const models = join(work, 'models');
    versionedIris(models, [1, 2, 3], { version_policy: { pin: 2 }, rollout: { canary: { version: 3, percent: 10 }, shadow: { version: 1, topic: 'iris-shadow' } } });
    const broker = await startLocalBroker({ topics: [{ name: 'messages', partitions: 3 }, { name: 'predictions', partitions: 2 }, { name: 'errors' }] });
    const runtime = startRuntime({ KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, MODELS_DIR: models, HTTP_PORT: '0', KAFKA_GROUP_ID: 'canary' });
    t.after(async () => {
      await runtime.stop();
      await broker.stop();
      rmSync(work, { recursive: true, force: true });
    });
    const { port } = await runtime.waitForLog((l) => l.msg === 'http listening');

    const n = 10_000;
    const keyOf = (i: number): string => `customer-${i % 2500}`;
    await produceAll(broker.bootstrap, 'messages', Array.from({ length: n }, (_, i) => ({ key: keyOf(i), value: JSON.stringify(irisRecord(`r${i}`, i)) })));
    const seen = await collectUntil(broker.bootstrap, ['predictions', 'errors'], (s) => s.length >= n, 180_000);
    const byId = idsOnce(seen, n);
    const versionOfKey = new Map<string, string>();
    let canary = 0;
    for (const [id, r] of byId) {
      assert.equal(r.topic, 'predictions', `${id}: ${JSON.stringify(r.value)}`);
      const { version } = r.value as Body;
      assert.ok(version === '2' || version === '3', `${id} was served by version ${version}: only the primary (2) and the canary (3) serve`);
      if (version === '3') canary++;
      const key = r.key!;
      assert.equal(versionOfKey.get(key) ?? version, version, `key ${key} saw two versions`);
      versionOfKey.set(key, version);
    }
    const share = canary / n;
    assert.ok(Math.abs(share - 0.1) <= 0.03, `the canary served ${(share * 100).toFixed(2)}% of the records`);

    const shadow = await collectUntil(broker.bootstrap, ['iris-shadow'], (s) => s.length >= n, 60_000);
    const shadowById = idsOnce(shadow, n);
    for (const r of shadowById.values()) assert.equal((r.value as Body).version, '1', 'the shadow topic holds version 1 only');

    const status = await eventually('counts of every version', async () => {
      const { body } = await getJson<{ models: { name: string; primary: string; counts: { version: string; role: string; records: number; predictions: number }[] }[] }>(port, '/status');
      const iris = body.models.find((m) => m.name === 'iris')!;
      const total = iris.counts.reduce((sum, c) => sum + c.records, 0);
      return total >= 2 * n ? iris : undefined;
    });
    assert.equal(status.primary, '2');
    const count = (version: string, role: string): number => status.counts.find((c) => c.version === version && c.role === role)?.predictions ?? 0;
    assert.equal(count('3', 'canary'), canary);
    assert.equal(count('2', 'primary'), n - canary);
    assert.equal(count('1', 'shadow'), n);
    const metrics = parsePrometheusText(await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text());
    assert.equal(sampleValue(metrics, 'mlstream_model_records_total', { model: 'iris', version: '3', role: 'canary', outcome: 'prediction' }), canary);
    assert.equal(sampleValue(metrics, 'mlstream_model_records_total', { model: 'iris', version: '1', role: 'shadow', outcome: 'prediction' }), n);
  },
);

test(
  'removing the newest version folder while records flow rolls back to the previous version with every record served exactly once',
  { skip: skipWithoutFixtures, timeout: 240_000 },
  async (t) => {
    const work = tempDir('mlstream-rollback-');
    const models = join(work, 'models');
    versionedIris(models, [1, 2]);
    const broker = await startLocalBroker({ topics: [{ name: 'messages', partitions: 2 }, { name: 'predictions' }, { name: 'errors' }] });
    const runtime = startRuntime({ KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, MODELS_DIR: models, HTTP_PORT: '0', KAFKA_GROUP_ID: 'rollback' });
    const producer = testKafka(broker.bootstrap).producer({ idempotent: true, maxInFlightRequests: 1 });
    t.after(async () => {
      await producer.disconnect().catch(() => undefined);
      await runtime.stop();
      await broker.stop();
      rmSync(work, { recursive: true, force: true });
    });
    const { port } = await runtime.waitForLog((l) => l.msg === 'http listening');
    const primary = async (): Promise<string | undefined> => (await getJson<{ models: { name: string; primary: string | null }[] }>(port, '/status')).body.models.find((m) => m.name === 'iris')?.primary ?? undefined;
    await eventually('version 2 to serve', async () => ((await primary()) === '2' ? true : undefined));

    await producer.connect();
    let sent = 0;
    let streaming = true;
    const sentAfterRollback = new Set<string>();
    let rolledBack = false;
    const stream = (async () => {
      while (streaming) {
        const batch = Array.from({ length: 25 }, () => {
          const id = `r${sent}`;
          if (rolledBack) sentAfterRollback.add(id);
          return { key: id, value: JSON.stringify(irisRecord(id, sent++)) };
        });
        await producer.send({ topic: 'messages', acks: -1, messages: batch });
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    await new Promise((r) => setTimeout(r, 2000));
    rmSync(join(models, 'iris', '2'), { recursive: true });
    await eventually('the rollback to version 1', async () => ((await primary()) === '1' ? true : undefined));
    rolledBack = true;
    await new Promise((r) => setTimeout(r, 2000));
    streaming = false;
    await stream;

    const seen = await collectUntil(broker.bootstrap, ['predictions', 'errors'], (s) => s.length >= sent, 60_000);
    const byId = idsOnce(seen, sent);
    const versions = new Set<string>();
    for (const [id, r] of byId) {
      assert.equal(r.topic, 'predictions', `${id}: ${JSON.stringify(r.value)}`);
      const { version } = r.value as Body;
      versions.add(version);
      if (sentAfterRollback.has(id)) assert.equal(version, '1', `${id} was sent after the rollback`);
    }
    assert.deepEqual([...versions].sort(), ['1', '2'], 'both versions served: 2 before its removal, 1 after');
    assert.ok(sentAfterRollback.size > 0);
  },
);
