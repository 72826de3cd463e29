// OneVsRestModel through a saved package in Spark's layout (metadata with numClasses,
// model_<i>/ per class, classifier/ ignored).
//   node --import tsx --test test/unit/spark/one-vs-rest.test.ts
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toDense } from '../../../runtime/pipeline/frame.js';
import { buildFrame } from '../../../runtime/pipeline/input-schema.js';
import {
  booleanColumn,
  compressedRowMajor,
  dbl,
  denseVectorColumn,
  int32Column,
  matrixColumn,
  writeData,
  writeMetadata,
} from '../../../scripts/examples/spark-writer.js';
import { isRejection } from '../../conformance/types.js';
import { loaded, serve, type SavedStage } from './saved-pipeline.js';
import { join } from 'node:path';

const LR = 'org.apache.spark.ml.classification.LogisticRegressionModel';

/** A binomial LogisticRegressionModel as Spark 3.x saves it: rawPrediction is [-m, m] for margin m = w·x + b. */
async function writeBinaryLogistic(dir: string, uid: string, weights: number[], intercept: number): Promise<void> {
  await writeMetadata(dir, { class: LR, uid, paramMap: { featuresCol: 'features', labelCol: 'label' }, defaultParamMap: { rawPredictionCol: 'rawPrediction', probabilityCol: 'probability', predictionCol: 'prediction', threshold: dbl(0.5) } });
  await writeData(dir, [
    int32Column('numClasses', [2]),
    int32Column('numFeatures', [weights.length]),
    denseVectorColumn('interceptVector', [[intercept]]),
    matrixColumn('coefficientMatrix', [compressedRowMajor(1, weights.length, Float64Array.from(weights))]),
    booleanColumn('isMultinomial', [false]),
  ]);
}

/** Class i's classifier: margins w·x + b chosen so the expected outputs below are hand arithmetic. */
const CLASSIFIERS: [number[], number][] = [
  [[1, 0], 0],
  [[0, 1], 0],
  [[-1, -1], 0.5],
];

const oneVsRest: SavedStage = {
  class: 'classification.OneVsRestModel',
  params: { featuresCol: 'features', labelCol: 'label', predictionCol: 'prediction', rawPredictionCol: 'rawPrediction' },
  extra: async (dir) => {
    // Spark's OneVsRestModel writer adds labelMetadata and numClasses to the metadata line.
    const { readFileSync, writeFileSync } = await import('node:fs');
    const file = join(dir, 'metadata', 'part-00000');
    const meta = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, `${JSON.stringify({ ...meta, labelMetadata: '{"ml_attr":{"vals":["a","b","c"],"type":"nominal"}}', numClasses: CLASSIFIERS.length })}\n`);
    await writeMetadata(join(dir, 'classifier'), { class: 'org.apache.spark.ml.classification.LogisticRegression', uid: 'LogisticRegression_est', paramMap: {}, defaultParamMap: {} });
    for (const [i, [w, b]] of CLASSIFIERS.entries()) await writeBinaryLogistic(join(dir, `model_${i}`), `LogisticRegression_m${i}`, w, b);
  },
};

const stages: SavedStage[] = [{ class: 'feature.VectorAssembler', params: { inputCols: ['x1', 'x2'], outputCol: 'features', handleInvalid: 'error' } }, oneVsRest];
const config = { input_schema: { x1: 'DOUBLE', x2: 'DOUBLE' }, output_labels: { '0': 'a', '1': 'b', '2': 'c' } };

describe('OneVsRestModel', () => {
  test("predicts the class whose classifier is most confident (element 1 of its rawPrediction), Spark's documented rule", async () => {
    // Margins per row, by hand: (2,3) → 2, 3, -4.5; (-1,-2) → -1, -2, 3.5; (4,1) → 4, 1, -4.5; (1,1) → 1, 1, -1.5 (tie: first).
    const out = await serve(stages, config, [{ x1: 2, x2: 3 }, { x1: -1, x2: -2 }, { x1: 4, x2: 1 }, { x1: 1, x2: 1 }]);
    assert.deepEqual(
      out.map((o) => (isRejection(o) ? o.message : o.prediction)),
      ['b', 'c', 'a', 'a'],
    );
    assert.ok(out.every((o) => !isRejection(o) && o.probability === undefined), 'OneVsRest writes no probability');
  });

  test('rawPrediction holds each class classifier’s margin', async () => {
    const raws = await loaded(stages, config, async (model) => {
      const frame = await model.pipeline.run(buildFrame([{ x1: 2, x2: 3 }, { x1: -1, x2: -2 }], model.fields));
      return frame.getTyped('rawPrediction', 'vector').values.map((v) => Array.from(toDense(v!)));
    });
    assert.deepEqual(raws, [
      [2, 3, -4.5],
      [-1, -2, 3.5],
    ]);
  });
});
