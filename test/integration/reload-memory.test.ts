import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createLogger } from '../../runtime/log.js';
import { ModelStore } from '../../runtime/packages/store.js';
import { builtinRegistry } from '../../runtime/stages/index.js';
import { repoRoot, skipWithoutFixtures } from '../helpers/fixtures.js';
import { tempDir, writeFixturePackage } from '../helpers/packages.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function settledRss(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().rss;
}

/**
 * Replaces the package 100 times through the store (load, warm up, swap, dispose) and
 * compares resident memory after the first 20 cycles with memory after all 100.
 */
async function reloadCycles(models: string, name: string, change: (i: number) => void): Promise<{ early: number; late: number }> {
  const store = new ModelStore(models, builtinRegistry(), createLogger('silent'), { watch: false });
  await store.start();
  assert.ok(store.current(), 'the package loads');
  let early = 0;
  for (let i = 1; i <= 100; i++) {
    change(i);
    const before = store.current()!.version;
    const lease = store.acquire()!;
    await (store as unknown as { reload(n: string): Promise<void> }).reload(name);
    lease.release();
    assert.notEqual(store.current()!.version, before, `cycle ${i} swapped versions`);
    if (i === 20) early = settledRss();
  }
  const late = settledRss();
  await store.close();
  return { early, late };
}

// A package whose versions are large (a 4 × 262144 coefficient matrix, 8 MB dense), so a
// leaked version per reload would show as hundreds of megabytes.
const TWITTER_CONFIG = { input_schema: { 'Tweet content': 'STRING' }, output_labels: { '0': 'Negative', '1': 'Positive', '2': 'Neutral', '3': 'Irrelevant' } };

test('100 reloads of a Spark package do not grow memory', { skip: skipWithoutFixtures, timeout: 240_000 }, async () => {
  const models = tempDir('mlstream-mem-');
  const dir = writeFixturePackage(join(models, 'twitter'), 'novo-twitter-tfidf-lr', TWITTER_CONFIG);
  const { early, late } = await reloadCycles(models, 'twitter', (i) => writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...TWITTER_CONFIG, description: `cycle ${i}` })));
  rmSync(models, { recursive: true, force: true });
  const growthMb = (late - early) / 2 ** 20;
  assert.ok(growthMb < 40, `RSS grew by ${growthMb.toFixed(1)} MB over 80 reloads`);
});

const onnxPackage = join(repoRoot, 'model-packages/iris-onnx');
test('100 reloads of an ONNX package release their sessions', { skip: existsSync(onnxPackage) ? false : 'model-packages/iris-onnx is not built', timeout: 180_000 }, async () => {
  const models = tempDir('mlstream-mem-onnx-');
  const { cpSync, readFileSync } = await import('node:fs');
  const dir = join(models, 'iris');
  cpSync(onnxPackage, dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as object;
  const { early, late } = await reloadCycles(models, 'iris', (i) => writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, description: `cycle ${i}` })));
  rmSync(models, { recursive: true, force: true });
  const growthMb = (late - early) / 2 ** 20;
  assert.ok(growthMb < 30, `RSS grew by ${growthMb.toFixed(1)} MB over 80 reloads`);
});
