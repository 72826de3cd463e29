import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readParquetRows } from '../../../runtime/packages/spark-format.js';
import type { Vector } from '../../../runtime/pipeline/frame.js';
import { bayesStages } from '../../../runtime/stages/spark/bayes.js';
import { denseFromStruct, matrixFromStruct } from '../../../runtime/stages/spark/udt.js';
import { fixture, readSparkCsv, skipWithoutFixtures } from '../../helpers/fixtures.js';
import {
  build,
  dense,
  denseMatrix,
  doubles,
  fixtureStageDir,
  frameWith,
  loadStage,
  randomSparse,
  rng,
  run,
  runFixturePipeline,
  sparseMatrix,
  sv,
  vec,
  vectors,
} from './model-helpers.js';

const NB = 'org.apache.spark.ml.classification.NaiveBayesModel';
const empty = { type: 1, numRows: 0, numCols: 0, colPtrs: null, rowIndices: null, values: [], isTransposed: false };

function softmax(raw: number[]): number[] {
  const max = Math.max(...raw);
  const e = raw.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-12): void {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, k) => assert.ok(Math.abs(actual[k]! - e) <= tol * Math.max(1, Math.abs(e)), `[${k}] ${actual[k]} vs ${e}`));
}

function nb(modelType: string, row: Record<string, unknown>, sparkVersion = '3.5.1', params: Record<string, unknown> = {}) {
  return build(bayesStages, { class: NB, sparkVersion, params: { modelType, ...params }, data: { data: [{ sigma: empty, ...row }] } });
}

describe('NaiveBayesModel', () => {
  const pi = [-1, -2];
  const theta = [-0.5, -1, -2, -0.25];

  it('multinomial: raw = pi + theta·x, probability its softmax, prediction the argmax', async () => {
    for (const matrix of [denseMatrix(2, 2, theta, true), denseMatrix(2, 2, theta), sparseMatrix(2, 2, theta, false)]) {
      const frame = await run(await nb('multinomial', { pi: dense(pi), theta: matrix }), frameWith('features', [vec([2, 1]), sv(2, [1], [4])]));
      const raws = [
        [-1 + (-0.5 * 2 + -1 * 1), -2 + (-2 * 2 + -0.25 * 1)],
        [-1 + -1 * 4, -2 + -0.25 * 4],
      ];
      vectors(frame, 'rawPrediction').forEach((r, i) => close(r, raws[i]!));
      vectors(frame, 'probability').forEach((p, i) => close(p, softmax(raws[i]!)));
      assert.deepEqual(doubles(frame, 'prediction'), [0, 1]);
    }
  });

  it('multinomial: rejects negative features since 3.0, not in 2.4', async () => {
    const x = [vec([2, -1]), vec([1, 1])];
    const modern = await run(await nb('multinomial', { pi: dense(pi), theta: denseMatrix(2, 2, theta, true) }), frameWith('features', x));
    assert.equal(modern.length, 1);
    assert.match(modern.rejections[0]!.message, /nonnegative/);
    const old = await run(await nb('multinomial', { pi: dense(pi), theta: denseMatrix(2, 2, theta, true) }, '2.4.0'), frameWith('features', x));
    assert.equal(old.length, 2);
  });

  it('bernoulli: log P(c) + Σ x log θ + (1 - x) log(1 - θ), only 0/1 features allowed', async () => {
    const p = [
      [0.2, 0.7],
      [0.6, 0.1],
    ];
    const prior = [0.4, 0.6];
    const row = { pi: dense(prior.map(Math.log)), theta: denseMatrix(2, 2, p.flat().map(Math.log), true) };
    const expected = (x: number[]) =>
      prior.map((q, c) => Math.log(q) + x.reduce((s, xj, j) => s + (xj ? Math.log(p[c]![j]!) : Math.log(1 - p[c]![j]!)), 0));
    for (const version of ['3.5.1', '2.4.0']) {
      const frame = await run(await nb('bernoulli', row, version), frameWith('features', [vec([1, 0]), sv(2, [1], [1]), vec([0.5, 0])]));
      close(vectors(frame, 'rawPrediction')[0]!, expected([1, 0]));
      close(vectors(frame, 'rawPrediction')[1]!, expected([0, 1]));
      assert.match(frame.rejections[0]!.message, /0 or 1/);
    }
  });

  it('complement: theta·x minus its log-sum-exp', async () => {
    const frame = await run(await nb('complement', { pi: dense(pi), theta: denseMatrix(2, 2, theta, true) }), frameWith('features', [vec([2, 1])]));
    const t = [-0.5 * 2 + -1 * 1, -2 * 2 + -0.25 * 1];
    const lse = Math.log(t.reduce((s, v) => s + Math.exp(v - Math.max(...t)), 0)) + Math.max(...t);
    close(vectors(frame, 'rawPrediction')[0]!, t.map((v) => v - lse));
    assert.deepEqual(doubles(frame, 'prediction'), [0]);
  });

  it('gaussian: pi - (Σ (x - μ)² / σ² + Σ log σ²) / 2', async () => {
    const mu = [0, 1, 2, -1];
    const variance = [1, 4, 0.5, 2];
    const row = { pi: dense(pi), theta: denseMatrix(2, 2, mu, true), sigma: denseMatrix(2, 2, variance) };
    const frame = await run(await nb('gaussian', row), frameWith('features', [vec([0.5, 2]), sv(2, [0], [1])]));
    const expected = (x: number[]) =>
      pi.map((p, c) => {
        const s = x.reduce((acc, xj, j) => acc + (xj - mu[c * 2 + j]!) ** 2 / variance[c * 2 + j]!, 0);
        return p - (s + Math.log(variance[c * 2]!) + Math.log(variance[c * 2 + 1]!)) / 2;
      });
    close(vectors(frame, 'rawPrediction')[0]!, expected([0.5, 2]));
    close(vectors(frame, 'rawPrediction')[1]!, expected([1, 0]));
  });

  it('applies thresholds and renamed output columns', async () => {
    const stage = await nb('multinomial', { pi: dense(pi), theta: denseMatrix(2, 2, theta, true) }, '3.5.1', {
      thresholds: [1, 1e-9],
      probabilityCol: 'p',
      rawPredictionCol: '',
    });
    assert.deepEqual(stage.modelOutputs, { predictionCol: 'prediction', probabilityCol: 'p', numClasses: 2 });
    const frame = await run(stage, frameWith('features', [vec([2, 1])]));
    assert.deepEqual(doubles(frame, 'prediction'), [1]);
  });
});

describe('NaiveBayesModel on real Spark exports', { skip: skipWithoutFixtures }, () => {
  const iris = { Sepal_Length: 'DOUBLE', Sepal_Width: 'DOUBLE', Petal_Length: 'DOUBLE', Petal_Width: 'DOUBLE' };
  for (const [name, labels] of [
    ['jpmml33-iris-nb', ['setosa', 'versicolor', 'virginica']],
    ['jpmml24-iris-nb-idx2str', ['versicolor', 'virginica', 'setosa']],
  ] as const) {
    it(`${name}: the whole pipeline gives Spark's probabilities and labels on all 150 rows`, async () => {
      const { frame, pipeline } = await runFixturePipeline(name, 'input-Iris.csv', iris);
      const expected = readSparkCsv(join(fixture(name), 'sample/expected-NaiveBayesIris.csv'));
      const probs = vectors(frame, pipeline.outputs!.probabilityCol!);
      const preds = doubles(frame, pipeline.outputs!.predictionCol);
      expected.rows.forEach((r, i) => {
        assert.equal(labels[preds[i]!], r[0], `row ${i}`);
        close(probs[i]!, labels.map((l) => Number(r[expected.header.indexOf(`probability(${l})`)])), 1e-14);
      });
    });
  }

  for (const [name, prefix] of [
    ['kappa-youtube-cv-nb', '5_'],
    ['kgv-news-cv-nb', '4_'],
    ['qhung-vi-tfidf-nb-stale-dirs', '3_'],
  ] as const) {
    it(`${name}: NaiveBayes loads and scores like pi + theta·x`, async () => {
      const dir = fixtureStageDir(name, prefix);
      const row = (await readParquetRows(dir))[0]!;
      const pi = denseFromStruct(row.pi);
      const theta = matrixFromStruct(row.theta);
      const next = rng(theta.numCols);
      const xs: Vector[] = Array.from({ length: 20 }, () => randomSparse(theta.numCols, 10, next));
      const frame = await run(await loadStage(dir), frameWith('features', xs));
      xs.forEach((x, i) => {
        const raw = [...pi].map((p, c) => {
          let s = 0;
          if (x instanceof Float64Array) throw new Error('sparse expected');
          x.indices.forEach((j, k) => (s += theta.values[c * theta.numCols + j]! * x.values[k]!));
          return p + s;
        });
        close(vectors(frame, 'rawPrediction')[i]!, raw, 1e-12);
        close(vectors(frame, 'probability')[i]!, softmax(raw), 1e-12);
        assert.equal(doubles(frame, 'prediction')[i], raw.indexOf(Math.max(...raw)));
      });
    });
  }
});
