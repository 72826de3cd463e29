// MultilayerPerceptronClassificationModel: sigmoid hidden layers, softmax output.
//   node --import tsx --test test/unit/spark/neural.test.ts
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ParamReader, type SparkMetadata } from '../../../runtime/packages/spark-format.js';
import { Frame, type Vector } from '../../../runtime/pipeline/frame.js';
import type { Stage, StageContext } from '../../../runtime/pipeline/stage.js';
import { neuralStages } from '../../../runtime/stages/spark/neural.js';

const MLP = 'org.apache.spark.ml.classification.MultilayerPerceptronClassificationModel';

function context(paramMap: Record<string, unknown>, data: Record<string, unknown>, sparkVersion: string): StageContext {
  const metadata: SparkMetadata = { class: MLP, uid: 'mlpc_test', sparkVersion, paramMap };
  return { dir: '/nonexistent', metadata, params: new ParamReader(metadata, 'test'), readData: async () => [data], loadNested: async () => [] };
}

async function mlp(paramMap: Record<string, unknown>, weights: number[], sparkVersion = '3.3.0'): Promise<Stage> {
  return neuralStages[MLP]!(context(paramMap, { weights: { type: 1, values: weights } }, sparkVersion));
}

async function score(s: Stage, points: (Vector | null)[]): Promise<Frame> {
  const frame = Frame.ofLength(points.length);
  frame.set('features', { type: 'vector', size: 2, values: points });
  await s.transform(frame);
  frame.compact();
  return frame;
}

const sigmoid = (x: number): number => 1.0 / (1 + Math.exp(-x));

// layers [2, 2, 2]. Each affine layer stores W (numOut × numIn) column-major, then b.
// W1 = [[1, 2], [0, 1]], b1 = [0, 0]; W2 = [[2, 0], [0, 1]], b2 = [0.5, 0].
const weights = [1, 0, 2, 1, 0, 0, 2, 0, 0, 1, 0.5, 0];

/** Expected forward pass for x, by hand from the matrices above. */
function expected(x: [number, number]): { raw: number[]; probability: number[] } {
  const h = [sigmoid(x[0] + 2 * x[1]), sigmoid(x[1])];
  const raw = [0.5 + 2 * h[0]!, h[1]!];
  const max = Math.max(...raw);
  const e = raw.map((r) => Math.exp(r - max));
  const sum = e[0]! + e[1]!;
  return { raw, probability: e.map((v) => v / sum) };
}

describe('MultilayerPerceptronClassificationModel', () => {
  test('rawPrediction is the last affine output, probability its softmax, prediction the argmax', async () => {
    const s = await mlp({ layers: [2, 2, 2] }, weights);
    assert.deepEqual(s.modelOutputs, { predictionCol: 'prediction', numClasses: 2, probabilityCol: 'probability', rawPredictionCol: 'rawPrediction' });
    const frame = await score(s, [Float64Array.of(0, 0.5), { size: 2, indices: Int32Array.of(1), values: Float64Array.of(-3) }]);
    const raws = frame.getTyped('rawPrediction', 'vector').values;
    const probs = frame.getTyped('probability', 'vector').values;
    const e0 = expected([0, 0.5]);
    assert.deepEqual(raws[0], Float64Array.from(e0.raw));
    assert.deepEqual(probs[0], Float64Array.from(e0.probability));
    const e1 = expected([0, -3]);
    assert.deepEqual(probs[1], Float64Array.from(e1.probability));
    assert.deepEqual(frame.getTyped('prediction', 'double').values, Float64Array.of(0, 0));
  });

  test('thresholds pick the argmax of probability / threshold', async () => {
    const s = await mlp({ layers: [2, 2, 2], thresholds: [0.9, 0.1] }, weights);
    const { probability } = expected([0, 0.5]);
    assert.ok(probability[1]! / 0.1 > probability[0]! / 0.9);
    const frame = await score(s, [Float64Array.of(0, 0.5)]);
    assert.equal(frame.getTyped('prediction', 'double').values[0], 1);
  });

  test('an empty probabilityCol / rawPredictionCol is not written', async () => {
    const s = await mlp({ layers: [2, 2, 2], probabilityCol: '', rawPredictionCol: '' }, weights);
    assert.deepEqual(s.outputCols, ['prediction']);
    const frame = await score(s, [Float64Array.of(0, 0.5)]);
    assert.equal(frame.has('probability'), false);
    assert.equal(frame.getTyped('prediction', 'double').values[0], 0);
  });

  test('Spark 2.x saves keep layers in data/ and produce only a prediction', async () => {
    const ctx = context({}, { layers: [2, 2, 2], weights: { type: 1, values: weights } }, '2.4.0');
    const s = await neuralStages[MLP]!(ctx);
    assert.deepEqual(s.outputCols, ['prediction']);
    assert.equal(s.modelOutputs?.probabilityCol, undefined);
    const frame = await score(s, [Float64Array.of(0, 0.5)]);
    assert.equal(frame.getTyped('prediction', 'double').values[0], 0);
  });

  test('a +∞ raw score takes all the probability', async () => {
    const s = await mlp({ layers: [2, 2] }, [1, 0, 0, 1, 0, 0]);
    const frame = await score(s, [Float64Array.of(Infinity, 5)]);
    assert.deepEqual(frame.getTyped('probability', 'vector').values[0], Float64Array.of(1, 0));
  });

  test('null and wrong-size features fail their rows; a weight count that does not fit the layers refuses the model', async () => {
    const frame = await score(await mlp({ layers: [2, 2, 2] }, weights), [null, Float64Array.of(1, 2, 3), Float64Array.of(1, 1)]);
    assert.deepEqual([...frame.rowIds], [2]);
    await assert.rejects(mlp({ layers: [2, 3, 2] }, weights), /need 17 weights/);
  });
});
