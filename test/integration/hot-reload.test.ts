import assert from 'node:assert/strict';
import { cpSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLocalBroker } from '../../scripts/broker/index.js';
import { fixture, skipWithoutFixtures } from '../helpers/fixtures.js';
import { collectUntil, testKafka, type Received } from '../helpers/kafka.js';
import { IRIS_CONFIG, irisRecord, tempDir, writeFixturePackage } from '../helpers/packages.js';
import { startRuntime } from '../helpers/runtime-process.js';

interface Status {
  serving: { name: string; version: string } | null;
  lastRefusal: { reason: string; at: string } | null;
}

test('add, replace ×20, break three ways, fix, remove — under a steady stream, every record once, no errors but NO_MODEL while removed', { skip: skipWithoutFixtures, timeout: 240_000 }, async (t) => {
  const work = tempDir('mlstream-reload-');
  const models = join(work, 'models');
  const dir = join(models, 'iris');
  const broker = await startLocalBroker({ topics: [{ name: 'messages', partitions: 2 }, { name: 'predictions' }, { name: 'errors' }] });
  // NO_MODEL_POLICY=error: while the package is removed its records become NO_MODEL errors (the default would keep them waiting).
  const runtime = startRuntime({ KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, MODELS_DIR: models, MODEL_PIPELINE: 'iris', HTTP_PORT: '0', KAFKA_GROUP_ID: 'reload', NO_MODEL_POLICY: 'error' });
  const producer = testKafka(broker.bootstrap).producer({ idempotent: true, maxInFlightRequests: 1 });
  t.after(async () => {
    await producer.disconnect().catch(() => {});
    await runtime.stop();
    await broker.stop();
    rmSync(work, { recursive: true, force: true });
  });
  const listening = await runtime.waitForLog((l) => l.msg === 'http listening');
  const status = async (): Promise<Status> => {
    try {
      return (await (await fetch(`http://127.0.0.1:${listening.port}/status`)).json()) as Status;
    } catch (e) {
      throw new Error(`GET /status failed (${(e as Error).message}); runtime logs:\n${runtime.logs.slice(-20).join("\n")}`);
    }
  };
  const until = async (what: string, check: (s: Status) => boolean): Promise<Status> => {
    const started = Date.now();
    for (;;) {
      const s = await status();
      if (check(s)) return s;
      if (Date.now() - started > 10_000) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  writeFixturePackage(dir, 'jpmml33-iris-nb', IRIS_CONFIG);
  const versions = [(await until('the first version', (s) => s.serving !== null)).serving!.version];

  // A steady stream, stamped with the phase it was sent in.
  await producer.connect();
  let phase = 'serving';
  let sent = 0;
  const phaseOf = new Map<string, string>();
  let streaming = true;
  const stream = (async () => {
    while (streaming) {
      const batch = Array.from({ length: 20 }, () => {
        const id = `r${sent++}`;
        phaseOf.set(id, phase);
        return { key: id, value: JSON.stringify(irisRecord(id, sent)) };
      });
      await producer.send({ topic: 'messages', acks: -1, messages: batch });
      await new Promise((r) => setTimeout(r, 40));
    }
  })();

  for (let i = 1; i <= 20; i++) {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...IRIS_CONFIG, description: `replacement ${i}` }));
    const s = await until(`replacement ${i}`, (st) => st.serving !== null && !versions.includes(st.serving.version));
    versions.push(s.serving!.version);
  }
  const good = versions[versions.length - 1]!;

  const refusedAfter = async (what: string, since: string | undefined): Promise<void> => {
    const s = await until(what, (st) => st.lastRefusal !== null && st.lastRefusal.at !== since);
    assert.equal(s.serving?.version, good, `${what}: the previous version keeps serving`);
  };
  writeFileSync(join(dir, 'config.json'), '{"input_schema": {');
  await refusedAfter('an invalid config.json', (await status()).lastRefusal?.at);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...IRIS_CONFIG, description: 'broken parquet' }));
  const data = join(dir, 'stages/2_NaiveBayes_3958ea2b5b1f/data');
  const part = readdirSync(data).find((n) => n.endsWith('.parquet'))!;
  const since = (await status()).lastRefusal?.at;
  writeFileSync(join(data, part), 'PAR1 not really');
  await refusedAfter('a corrupt parquet file', since);
  const since2 = (await status()).lastRefusal?.at;
  rmSync(data, { recursive: true });
  await refusedAfter('a half-copied package', since2);

  cpSync(join(fixture('jpmml33-iris-nb'), 'stages/2_NaiveBayes_3958ea2b5b1f/data'), data, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...IRIS_CONFIG, description: 'fixed' }));
  versions.push((await until('the fix', (s) => s.serving !== null && !versions.includes(s.serving.version))).serving!.version);

  phase = 'removing';
  rmSync(dir, { recursive: true });
  await until('removal', (s) => s.serving === null);
  phase = 'removed';
  await new Promise((r) => setTimeout(r, 500));
  streaming = false;
  await stream;

  const seen = await collectUntil(broker.bootstrap, ['predictions', 'errors'], (s) => s.length >= sent, 60_000);
  const byKey = new Map<string, Received[]>();
  for (const r of seen) byKey.set(r.key!, [...(byKey.get(r.key!) ?? []), r]);
  for (let i = 0; i < sent; i++) assert.equal(byKey.get(`r${i}`)?.length, 1, `r${i} appears ${byKey.get(`r${i}`)?.length ?? 0} times`);

  let predicted = 0;
  for (const r of seen) {
    const body = r.value as { version?: string; error?: { code: string } };
    if (r.topic === 'predictions') {
      predicted++;
      assert.ok(versions.includes(body.version!), `prediction names a loaded version (${body.version})`);
      assert.equal(r.headers['mlstream-model'], `iris@${body.version}`);
    } else {
      assert.equal(body.error?.code, 'NO_MODEL', `only NO_MODEL errors, got ${JSON.stringify(body)}`);
      assert.notEqual(phaseOf.get(r.key!), 'serving', `${r.key} was sent while a version served, yet got NO_MODEL`);
    }
  }
  const usedVersions = new Set(seen.filter((r) => r.topic === 'predictions').map((r) => (r.value as { version: string }).version));
  assert.ok(usedVersions.size >= 10, `predictions came from ${usedVersions.size} versions across the replacements`);
  assert.ok(predicted > sent / 2);
});
