import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { encodeTfExample } from '../../../runtime/codecs/tf-example.js';
import { loadPackage } from '../../../runtime/packages/package.js';
import { builtinRegistry } from '../../../runtime/stages/index.js';
import { trainFlags, trainOptions } from '../../../runtime/train/options.js';
import { Trainer } from '../../../runtime/train/trainer.js';
import { tempDir } from '../../helpers/packages.js';

/**
 * tf.train.Example records as Monolith's movie-lens producer writes them (int64_list ids,
 * a float_list rating) are learned like JSON ones, and the versions say they read that format.
 */
test('movie-lens-shaped tf.train.Examples (int64 ids, float rating) are learned and the versions declare input_format tf-example', async (t) => {
  const models = tempDir('mlstream-train-tfexample-');
  t.after(() => rmSync(models, { recursive: true, force: true }));
  const args = ['--input-topic', 'ratings', '--input-format', 'tf-example', '--algorithm', 'linear-sgd', '--label', 'rating', '--columns', 'user_id,item_id', '--standardize', '--intercept', '--name', 'ratings'];
  const trainer = await Trainer.open(trainOptions(trainFlags(new Command('train')).parse(args, { from: 'user' }).opts(), undefined), models, builtinRegistry());
  const kinds = new Map([['user_id', 'int64'], ['item_id', 'int64'], ['rating', 'float']] as const);
  let offset = 0n;
  const rmse: number[] = [];
  for (let b = 0; b < 20; b++) {
    const batch = Array.from({ length: 100 }, (_, i) => {
      const user = ((b * 100 + i) * 7) % 50;
      const item = ((b * 100 + i) * 11) % 40;
      return { offset: offset++, value: Buffer.from(encodeTfExample({ user_id: user, item_id: item, rating: 1 + 0.04 * user + 0.05 * item }, kinds)) };
    });
    assert.deepEqual(await trainer.trainBatch(0, batch), []);
    rmse.push(trainer.status().prequential.rmse!);
  }
  assert.ok(rmse.at(-1)! < rmse[0]! / 10, `prequential RMSE falls as it learns: ${rmse[0]} → ${rmse.at(-1)}`);
  const { dir } = (await trainer.publish())!;
  assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).input_format, 'tf-example');
  const served = await loadPackage(dir, builtinRegistry());
  assert.equal(served.config.input_format, 'tf-example');
  await served.pipeline.dispose();
  await trainer.close();
});
