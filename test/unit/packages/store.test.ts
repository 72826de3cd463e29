import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../../runtime/log.js';
import { ModelStore } from '../../../runtime/packages/store.js';
import { builtinRegistry } from '../../../runtime/stages/index.js';
import { fixture, skipWithoutFixtures } from '../../helpers/fixtures.js';
import { IRIS_CONFIG, tempDir, writeFixturePackage } from '../../helpers/packages.js';

const silent = createLogger('silent');
const skip = skipWithoutFixtures;

async function waitFor(what: string, check: () => boolean, timeoutMs = 4000): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return Date.now() - started;
}

async function withStore(fn: (models: string, store: ModelStore) => Promise<void>, selected?: string): Promise<void> {
  const models = tempDir();
  const store = new ModelStore(models, builtinRegistry(), silent, { selected, settleMs: 300 });
  try {
    await store.start();
    await fn(models, store);
  } finally {
    await store.close();
    rmSync(models, { recursive: true, force: true });
  }
}

test('a package dropped into the folder serves within 2 s of the copy settling', { skip }, () =>
  withStore(async (models, store) => {
    writeFixturePackage(join(models, 'iris'), 'jpmml33-iris-nb', IRIS_CONFIG);
    const ms = await waitFor('iris to serve', () => store.current()?.name === 'iris');
    assert.ok(ms < 2000, `served after ${ms} ms`);
  }));

test('a half-copied package never serves; completing the copy makes it serve', { skip }, () =>
  withStore(async (models, store) => {
    const dir = join(models, 'iris');
    writeFixturePackage(dir, 'jpmml33-iris-nb', IRIS_CONFIG);
    // Simulate a copy that stalled before the model stage's data arrived.
    const nbData = join(dir, 'stages/2_NaiveBayes_3958ea2b5b1f/data');
    rmSync(nbData, { recursive: true });
    await waitFor('the partial package to be looked at', () => store.refusal()?.name === 'iris');
    assert.equal(store.current(), undefined, 'a partial package must not serve');
    assert.match(store.refusal()!.reason, /data/);
    cpSync(join(fixture('jpmml33-iris-nb'), 'stages/2_NaiveBayes_3958ea2b5b1f/data'), nbData, { recursive: true });
    await waitFor('iris to serve once complete', () => store.current()?.name === 'iris');
  }));

test('copy to a hidden name, then rename: the hidden folder is never loaded', { skip }, () =>
  withStore(async (models, store) => {
    const hidden = join(models, '.iris.incoming');
    writeFixturePackage(hidden, 'jpmml33-iris-nb', IRIS_CONFIG);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(store.loaded().length, 0);
    assert.equal(store.refusal(), undefined);
    renameSync(hidden, join(models, 'iris'));
    await waitFor('iris to serve after the rename', () => store.current()?.name === 'iris');
  }));

test('replacing swaps versions; a broken replacement leaves the old version serving and is reported', { skip }, () =>
  withStore(async (models, store) => {
    const dir = writeFixturePackage(join(models, 'iris'), 'jpmml33-iris-nb', IRIS_CONFIG);
    await waitFor('v1', () => store.current() !== undefined);
    const v1 = store.current()!.version;
    const lease = store.acquire()!;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...IRIS_CONFIG, description: 'v2' }));
    await waitFor('v2', () => store.current()?.version !== v1);
    assert.equal(lease.model.version, v1, 'a batch keeps the version it started with');
    lease.release();
    const v2 = store.current()!.version;

    writeFileSync(join(dir, 'config.json'), '{"input_schema": ');
    await waitFor('the refusal', () => store.refusal()?.name === 'iris');
    assert.equal(store.current()?.version, v2, 'the previous version keeps serving');
    assert.match(store.refusal()!.reason, /config\.json: not valid JSON/);

    const parquet = join(dir, 'stages/2_NaiveBayes_3958ea2b5b1f/data');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...IRIS_CONFIG, description: 'v3' }));
    const part = readdirSync(parquet).find((n) => n.endsWith('.parquet'))!;
    writeFileSync(join(parquet, part), 'this is not parquet');
    await waitFor('the corrupt parquet refusal', () => /parquet/.test(store.refusal()?.reason ?? ''));
    assert.equal(store.current()?.version, v2);
  }));

test('removing the folder stops serving it', { skip }, () =>
  withStore(async (models, store) => {
    writeFixturePackage(join(models, 'iris'), 'jpmml33-iris-nb', IRIS_CONFIG);
    await waitFor('iris', () => store.current() !== undefined);
    rmSync(join(models, 'iris'), { recursive: true });
    await waitFor('removal', () => store.current() === undefined);
    assert.equal(store.loaded().length, 0);
  }));

test('a symbolic link out of the package is refused, naming the file', { skip }, () =>
  withStore(async (models, store) => {
    const dir = join(models, 'iris');
    writeFixturePackage(dir, 'jpmml33-iris-nb', IRIS_CONFIG);
    const outside = tempDir();
    writeFileSync(join(outside, 'secret'), 'x');
    mkdirSync(join(dir, 'extra'));
    symlinkSync(join(outside, 'secret'), join(dir, 'extra', 'link'));
    await waitFor('the refusal', () => store.refusal() !== undefined, 4000);
    assert.match(store.refusal()!.reason, /extra\/link: symbolic link leads outside the package/);
    assert.equal(store.current(), undefined);
    rmSync(outside, { recursive: true, force: true });
  }));

test('with several packages, MODEL_PIPELINE picks the one that serves', { skip }, () =>
  withStore(async (models, store) => {
    writeFixturePackage(join(models, 'a'), 'jpmml33-iris-nb', IRIS_CONFIG);
    writeFixturePackage(join(models, 'b'), 'jpmml33-iris-nb', { ...IRIS_CONFIG, description: 'b' });
    await waitFor('both', () => store.loaded().length === 2);
    assert.equal(store.current()?.name, 'b');
  }, 'b'));
