import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { dbl, denseVectorColumn, writeData, writeMetadata, type StageMetadata } from '../../../runtime/packages/spark-writer.js';
import { builtinRegistry } from '../../../runtime/stages/index.js';
import { trainFlags, trainOptions } from '../../../runtime/train/options.js';
import { Trainer } from '../../../runtime/train/trainer.js';
import { tempDir } from '../../helpers/packages.js';
import { register, THROWING_STAGE_CLASS } from '../../helpers/throwing-stage-plugin.js';

/** A feature stage that throws on a whole batch fails that batch's records, not the trainer. */
test("a feature stage throwing on a batch fails each of its records with PIPELINE_ERROR; the trainer moves past them and learns the next batch", async (t) => {
  const dir = tempDir('mlstream-train-throwing-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pkg = join(dir, 'features');
  const stages: StageMetadata[] = [
    { class: THROWING_STAGE_CLASS, uid: 'Throwing_1', paramMap: { column: 'a', above: dbl(100) }, defaultParamMap: {} },
    { class: 'org.apache.spark.ml.feature.VectorAssembler', uid: 'VectorAssembler_1', paramMap: { inputCols: ['a', 'b'], outputCol: 'features' }, defaultParamMap: {} },
    { class: 'org.apache.spark.ml.regression.LinearRegressionModel', uid: 'LinearRegression_1', paramMap: { featuresCol: 'features' }, defaultParamMap: {} },
  ];
  for (const [i, m] of stages.entries()) await writeMetadata(join(pkg, 'stages', `${i}_${m.uid}`), m);
  await writeData(join(pkg, 'stages', '2_LinearRegression_1'), [
    { name: 'intercept', data: [0], schema: [{ name: 'intercept', type: 'DOUBLE', repetition_type: 'REQUIRED' }], sparkType: 'double', nullable: false },
    denseVectorColumn('coefficients', [[0, 0]]),
    { name: 'scale', data: [1], schema: [{ name: 'scale', type: 'DOUBLE', repetition_type: 'REQUIRED' }], sparkType: 'double', nullable: false },
  ]);
  await writeMetadata(pkg, { class: 'org.apache.spark.ml.PipelineModel', uid: 'PipelineModel_1', paramMap: { stageUids: stages.map((s) => s.uid) }, defaultParamMap: {} });
  writeFileSync(join(pkg, 'config.json'), JSON.stringify({ input_schema: { a: 'DOUBLE', b: 'DOUBLE' }, output_labels: {} }));

  const registry = builtinRegistry();
  register(registry);
  const o = trainOptions(trainFlags(new Command('train')).parse(['--input-topic', 'x', '--name', 'y', '--algorithm', 'linear-sgd', '--label', 'y', '--features', pkg], { from: 'user' }).opts(), undefined);
  const trainer = await Trainer.open(o, join(dir, 'models'), registry);
  const record = (offset: number, a: number) => ({ offset: BigInt(offset), value: Buffer.from(JSON.stringify({ a, b: 1, y: a + 1 })) });
  const failures = await trainer.trainBatch(0, [record(0, 1), record(1, 500), record(2, 3)]);
  assert.deepEqual(failures.map((f) => [f.offset, f.error.code]), [[0n, 'PIPELINE_ERROR'], [1n, 'PIPELINE_ERROR'], [2n, 'PIPELINE_ERROR']]);
  assert.match(failures[1]!.error.message, /a deliberate bug/);
  assert.equal(trainer.nextOffset(0), 3n);
  assert.deepEqual(await trainer.trainBatch(0, [record(3, 1), record(4, 2)]), []);
  assert.equal(trainer.status().trained, 2);
  await trainer.close();
});
