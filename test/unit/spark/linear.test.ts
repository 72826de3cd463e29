import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readParquetRows } from '../../../runtime/packages/spark-format.js';
import type { Vector } from '../../../runtime/pipeline/frame.js';
import { erfc } from '../../../runtime/stages/spark/glm.js';
import { linearStages } from '../../../runtime/stages/spark/linear.js';
import { denseFromStruct, matrixFromStruct } from '../../../runtime/stages/spark/udt.js';
import { fixture, skipWithoutFixtures } from '../../helpers/fixtures.js';
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
  sampleColumn,
  sparseMatrix,
  sv,
  vec,
  vectors,
} from './model-helpers.js';

const CLS = 'org.apache.spark.ml.classification.';
const REG = 'org.apache.spark.ml.regression.';

const sigmoid = (m: number) => 1 / (1 + Math.exp(-m));

function svc(params: Record<string, unknown> = {}) {
  return build(linearStages, {
    class: CLS + 'LinearSVCModel',
    params,
    data: { data: [{ coefficients: dense([1, -2]), intercept: 0.5 }] },
  });
}

describe('LinearSVCModel', () => {
  it('gives rawPrediction [-m, m] and predicts 1 only when the margin exceeds the threshold', async () => {
    const frame = await run(await svc(), frameWith('features', [vec([3, 1]), sv(2, [1], [1]), vec([1, 0.25])]));
    assert.deepEqual(vectors(frame, 'rawPrediction').map((v) => [...v]), [[-1.5, 1.5], [1.5, -1.5], [-1, 1]]);
    assert.deepEqual(doubles(frame, 'prediction'), [1, 0, 1]);
    const strict = await run(await svc({ threshold: 1.0 }), frameWith('features', [vec([1, 0.25]), vec([3, 1])]));
    assert.deepEqual(doubles(strict, 'prediction'), [0, 1]);
  });

  it('skips outputs whose column param is empty and has no probability column', async () => {
    const stage = await svc({ rawPredictionCol: '', featuresCol: 'f', predictionCol: 'p' });
    assert.deepEqual(stage.inputCols, ['f']);
    assert.deepEqual(stage.outputCols, ['p']);
    assert.deepEqual(stage.modelOutputs, { predictionCol: 'p', numClasses: 2 });
    const frame = await run(stage, frameWith('f', [vec([3, 1])]));
    assert.deepEqual(doubles(frame, 'p'), [1]);
    assert.equal(frame.has('rawPrediction'), false);
    assert.equal((await svc({ predictionCol: '' })).modelOutputs, undefined);
  });

  it('rejects a row with a null or wrongly sized vector and scores the others', async () => {
    const frame = await run(await svc(), frameWith('features', [vec([3, 1]), vec([1, 2, 3]), null]));
    assert.deepEqual(doubles(frame, 'prediction'), [1]);
    assert.deepEqual(
      frame.rejections.map((r) => [r.row, r.code]),
      [
        [1, 'PIPELINE_ERROR'],
        [2, 'PIPELINE_ERROR'],
      ],
    );
    assert.match(frame.rejections[0]!.message, /size 3.*expects 2/);
  });
});

function binomial(coefficientMatrix: unknown, intercept: number, params: Record<string, unknown> = {}, sparkVersion = '3.5.1') {
  return build(linearStages, {
    class: CLS + 'LogisticRegressionModel',
    sparkVersion,
    params,
    data: { data: [{ numClasses: 2, numFeatures: 2, interceptVector: dense([intercept]), coefficientMatrix, isMultinomial: false }] },
  });
}

describe('LogisticRegressionModel (binomial)', () => {
  const coef = denseMatrix(1, 2, [1, 2], true);

  it('gives [-m, m], sigmoid probabilities (p1 = 1 - p0 since 3.1) and a threshold on the margin', async () => {
    const frame = await run(await binomial(coef, -1), frameWith('features', [vec([1, 1]), sv(2, [0], [0.5])]));
    assert.deepEqual([...vectors(frame, 'rawPrediction')[0]!], [-2, 2]);
    const p0 = 1 / (1 + Math.exp(2));
    assert.deepEqual([...vectors(frame, 'probability')[0]!], [p0, 1 - p0]);
    assert.deepEqual(doubles(frame, 'prediction'), [1, 0]);
    const old = await run(await binomial(coef, -1, {}, '2.4.3'), frameWith('features', [vec([1, 1])]));
    assert.deepEqual([...vectors(old, 'probability')[0]!], [p0, sigmoid(2)]);
  });

  it('uses threshold, or thresholds as 1 / (1 + t0 / t1), and refuses inconsistent ones', async () => {
    const x = [vec([1, 1]), vec([0.5, 0.5])];
    assert.deepEqual(doubles(await run(await binomial(coef, -1, { threshold: 0.9 }), frameWith('features', x)), 'prediction'), [0, 0]);
    const byThresholds = await binomial(coef, -1, { thresholds: [0.3, 0.7] });
    assert.deepEqual(doubles(await run(byThresholds, frameWith('features', x)), 'prediction'), [1, 0]);
    await assert.rejects(binomial(coef, -1, { threshold: 0.5, thresholds: [0.3, 0.7] }), /disagree/);
  });

  it('predicts from the probability, or from the score, when the raw column is skipped', async () => {
    const params = { rawPredictionCol: '', threshold: 0.8 };
    const frame = await run(await binomial(coef, -1, params), frameWith('features', [vec([1, 1]), vec([1, 1.5])]));
    assert.deepEqual(doubles(frame, 'prediction'), [1, 1]);
    const bare = await run(await binomial(coef, -1, { ...params, probabilityCol: '' }), frameWith('features', [vec([0.2, 0.3])]));
    assert.deepEqual(doubles(bare, 'prediction'), [0]);
    assert.deepEqual(bare.has('probability'), false);
  });

  it('reads a sparse row-major coefficient matrix and the 2.0 layout', async () => {
    const coefs = sparseMatrix(1, 5, [0, 1.5, 0, -2, 0.25], true);
    const stage = await build(linearStages, {
      class: CLS + 'LogisticRegressionModel',
      data: { data: [{ numClasses: 2, numFeatures: 5, interceptVector: dense([0.5]), coefficientMatrix: coefs, isMultinomial: false }] },
    });
    const frame = await run(stage, frameWith('features', [sv(5, [1, 3, 4], [2, 1, 4]), vec([1, 1, 1, 1, 1])]));
    assert.deepEqual(vectors(frame, 'rawPrediction').map((v) => v[1]), [3 - 2 + 1 + 0.5, 1.5 - 2 + 0.25 + 0.5]);
    const v20 = await build(linearStages, {
      class: CLS + 'LogisticRegressionModel',
      sparkVersion: '2.0.2',
      params: { threshold: 0.5 },
      data: { data: [{ numClasses: 2, numFeatures: 2, intercept: -1, coefficients: dense([1, 2]) }] },
    });
    assert.deepEqual([...vectors(await run(v20, frameWith('features', [vec([1, 1])])), 'rawPrediction')[0]!], [-2, 2]);
  });
});

describe('LogisticRegressionModel (multinomial)', () => {
  const w = [1, 0, 0, 2, 0, -1, 0, 0, 0.5, 0, 3, 0];
  const b = [0.1, 0.2, -0.3];
  const layouts = {
    'dense column-major': denseMatrix(3, 4, w),
    'dense row-major': denseMatrix(3, 4, w, true),
    CSR: sparseMatrix(3, 4, w, true),
    CSC: sparseMatrix(3, 4, w, false),
  };
  const model = (coefficientMatrix: unknown, params: Record<string, unknown> = {}, sparkVersion = '3.5.1', intercepts = b) =>
    build(linearStages, {
      class: CLS + 'LogisticRegressionModel',
      sparkVersion,
      params,
      data: { data: [{ numClasses: 3, numFeatures: 4, interceptVector: dense(intercepts), coefficientMatrix, isMultinomial: true }] },
    });
  const x = [sv(4, [0, 2, 3], [1, 2, 0.5]), vec([1, 0, 2, 0.5])];
  const margins = [1 * 1 + 2 * 0.5 + 0.1, 0.2, 0.5 * 1 + 3 * 2 - 0.3];
  const softmaxOf = (m: number[]) => {
    const e = m.map((v) => Math.exp(v - Math.max(...m)));
    const s = e.reduce((a, c) => a + c, 0);
    return e.map((v) => v / s);
  };

  for (const [name, matrix] of Object.entries(layouts)) {
    it(`scores W·x + b with a ${name} matrix, softmax probabilities and argmax prediction`, async () => {
      const frame = await run(await model(matrix), frameWith('features', x));
      for (const raw of vectors(frame, 'rawPrediction')) raw.forEach((v, k) => assert.ok(Math.abs(v - margins[k]!) < 1e-12));
      for (const p of vectors(frame, 'probability')) p.forEach((v, k) => assert.ok(Math.abs(v - softmaxOf(margins)[k]!) < 1e-15));
      assert.deepEqual(doubles(frame, 'prediction'), [2, 2]);
    });
  }

  it('applies thresholds as the largest probability / threshold', async () => {
    const frame = await run(await model(layouts.CSR, { thresholds: [1, 1, 100] }), frameWith('features', x));
    assert.deepEqual(doubles(frame, 'prediction'), [0, 0]);
    await assert.rejects(model(layouts.CSR, { thresholds: [1, 1] }), /2 values for 3 classes/);
  });

  it('keeps the pre-3.2 softmax (shift only by a positive max) and gives +Infinity all the mass', async () => {
    const negative = [-900, -901, -899];
    const old = await run(await model(layouts.CSR, {}, '3.1.2', negative), frameWith('features', [sv(4, [], [])]));
    assert.ok(vectors(old, 'probability')[0]!.every((v) => Number.isNaN(v)), 'exp underflows to 0/0 as in Spark < 3.2');
    const modern = await run(await model(layouts.CSR, {}, '3.5.1', negative), frameWith('features', [sv(4, [], [])]));
    vectors(modern, 'probability')[0]!.forEach((v, k) => assert.ok(Math.abs(v - softmaxOf(negative)[k]!) < 1e-15));
    const inf = await run(await model(layouts.CSR), frameWith('features', [vec([Infinity, 0, 0, 0])]));
    assert.deepEqual([...vectors(inf, 'probability')[0]!], [1, 0, 0]);
  });
});

describe('LinearRegressionModel', () => {
  it('predicts w·x + b for dense and sparse vectors', async () => {
    const stage = await build(linearStages, {
      class: REG + 'LinearRegressionModel',
      params: { predictionCol: 'y' },
      data: { data: [{ intercept: 3, coefficients: dense([2, -1, 0.5]), scale: 1 }] },
    });
    assert.deepEqual(stage.modelOutputs, { predictionCol: 'y' });
    const frame = await run(stage, frameWith('features', [vec([1, 2, 4]), sv(3, [2], [4])]));
    assert.deepEqual(doubles(frame, 'y'), [5, 5]);
  });
});

function glm(params: Record<string, unknown>, intercept = 0) {
  return build(linearStages, {
    class: REG + 'GeneralizedLinearRegressionModel',
    params,
    data: { data: [{ intercept, coefficients: dense([1, 2]) }] },
  });
}

async function glmPredict(params: Record<string, unknown>, etas: number[]): Promise<number[]> {
  const frame = await run(await glm(params), frameWith('features', etas.map((e) => vec([e, 0]))));
  return doubles(frame, 'prediction');
}

describe('GeneralizedLinearRegressionModel', () => {
  it('resolves each family default link and projects into the valid range', async () => {
    assert.deepEqual(await glmPredict({ family: 'gaussian' }, [1.5, -Infinity]), [1.5, -Number.MAX_VALUE]);
    assert.deepEqual(await glmPredict({ family: 'poisson' }, [1, -800]), [Math.exp(1), 1e-16]);
    assert.deepEqual(await glmPredict({ family: 'gamma' }, [4]), [0.25]);
    assert.deepEqual(await glmPredict({ family: 'binomial' }, [0.3, 100]), [1 / (1 + Math.exp(-0.3)), 1 - 1e-16]);
    assert.deepEqual(await glmPredict({ family: 'tweedie', variancePower: 1.5 }, [4]), [Math.pow(4, 1 / -0.5)]);
    assert.deepEqual(await glmPredict({ family: 'tweedie', variancePower: 1.5, linkPower: 0 }, [1]), [Math.exp(1)]);
    assert.deepEqual(await glmPredict({ family: 'Poisson', link: 'sqrt' }, [3]), [9]);
    assert.deepEqual(await glmPredict({ family: 'binomial', link: 'cloglog' }, [0]), [1 - Math.exp(-1)]);
  });

  it('uses the standard normal cdf for the probit link', async () => {
    const [half, z] = await glmPredict({ family: 'binomial', link: 'probit' }, [0, 1.96]);
    assert.equal(half, 0.5);
    assert.ok(Math.abs(z! - 0.9750021048517795) < 1e-15);
    for (const [x, want] of [
      [0.5, 0.4795001221869535],
      [2, 0.004677734981047266],
      [-1, 1.8427007929497148],
      [6, 2.1519736712498913e-17],
    ] as const) {
      assert.ok(Math.abs(erfc(x) - want) <= 1e-13 * want, `erfc(${x}) = ${erfc(x)}`);
    }
  });

  it('adds the offset column and writes the linear predictor to linkPredictionCol', async () => {
    const stage = await glm({ family: 'poisson', offsetCol: 'off', linkPredictionCol: 'eta' }, 0.5);
    assert.deepEqual(stage.inputCols, ['features', 'off']);
    assert.deepEqual(stage.outputCols, ['prediction', 'eta']);
    const frame = frameWith('features', [vec([1, 1]), vec([0, 0])]);
    frame.set('off', { type: 'double', values: Float64Array.of(-1, NaN), nulls: Uint8Array.of(0, 1) });
    await run(stage, frame);
    assert.deepEqual(doubles(frame, 'eta'), [1 + 2 + 0.5 - 1]);
    assert.deepEqual(doubles(frame, 'prediction'), [Math.exp(2.5)]);
    assert.equal(frame.rejections[0]?.row, 1);
  });
});

describe('linear models on real Spark exports', { skip: skipWithoutFixtures }, () => {
  it('jpmml33-sentiment-lsvc: the whole pipeline predicts what Spark predicted for all 1000 sentences', async () => {
    const name = 'jpmml33-sentiment-lsvc';
    const { frame, pipeline } = await runFixturePipeline(name, 'input-Sentiment.csv', { Sentence: 'STRING' });
    assert.deepEqual(pipeline.outputs, { predictionCol: 'prediction', rawPredictionCol: 'rawPrediction', numClasses: 2 });
    const labels = ((await readParquetRows(fixtureStageDir(name, '0_')))[0]!.labelsArray as string[][])[0]!;
    const expected = sampleColumn(name, 'expected-LinearSVCSentiment.csv', 'Score');
    assert.deepEqual(doubles(frame, 'prediction').map((p) => labels[p]), expected);
  });

  it('jpmml33-housing-imputer-linreg: the whole pipeline predicts what Spark predicted for all 506 rows', async () => {
    const name = 'jpmml33-housing-imputer-linreg';
    const schema: Record<string, string> = { CHAS: 'INTEGER', RAD: 'INTEGER' };
    for (const c of ['CRIM', 'ZN', 'INDUS', 'NOX', 'RM', 'AGE', 'DIS', 'TAX', 'PTRATIO', 'B', 'LSTAT']) schema[c] = 'DOUBLE';
    const { frame } = await runFixturePipeline(name, 'input-Housing.csv', schema);
    const expected = sampleColumn(name, 'expected-LinearRegressionHousing.csv', 'MEDV').map(Number);
    assert.equal(frame.length, expected.length);
    doubles(frame, 'prediction').forEach((p, i) => assert.ok(Math.abs(p - expected[i]!) <= 1e-12 * Math.abs(expected[i]!), `row ${i}`));
  });

  const lrFixtures: [string, string | null][] = [
    ['diegoami-spam-hashingtf-lr', '2_'],
    ['hydro21-tok-hashingtf-lr', '2_'],
    ['mdh266-twitter-ngram-cv-lr', '4_'],
    ['novo-twitter-tfidf-lr', '6_'],
    ['chalanis-lyrics-tfidf-lr', '5_'],
    ['kappa-youtube-cv-lr', '5_'],
    ['qhung-vi-tfidf-lr', '3_'],
    ['yelp-lr-single', null],
  ];
  for (const [name, prefix] of lrFixtures) {
    it(`${name}: LogisticRegression loads and scores like a plain W·x + b reference`, async () => {
      const dir = prefix ? fixtureStageDir(name, prefix) : fixture(name);
      await checkLogistic(dir);
    });
  }

  it('jaswanth-parking-ohe-linreg: LinearRegression loads and scores like w·x + b', async () => {
    const dir = fixtureStageDir('jaswanth-parking-ohe-linreg', '4_');
    const row = (await readParquetRows(dir))[0]!;
    const w = denseFromStruct(row.coefficients);
    const next = rng(7);
    const xs = Array.from({ length: 20 }, () => randomSparse(w.length, 8, next));
    const frame = await run(await loadStage(dir), frameWith('features', xs));
    doubles(frame, 'prediction').forEach((p, i) => assert.ok(Math.abs(p - (dotDense(xs[i]!, w) + Number(row.intercept))) < 1e-9));
  });
});

function dotDense(x: Vector, w: ArrayLike<number>, offset = 0): number {
  const d = x instanceof Float64Array ? x : toDenseVec(x);
  let s = 0;
  for (let j = 0; j < d.length; j++) s += d[j]! * w[offset + j]!;
  return s;
}

function toDenseVec(x: Exclude<Vector, Float64Array>): Float64Array {
  const d = new Float64Array(x.size);
  x.indices.forEach((j, k) => (d[j] = x.values[k]!));
  return d;
}

/** Compares a saved LogisticRegressionModel against margins computed from its dense matrix. */
async function checkLogistic(dir: string): Promise<void> {
  const row = (await readParquetRows(dir))[0]!;
  const m = matrixFromStruct(row.coefficientMatrix);
  const b = denseFromStruct(row.interceptVector);
  const multinomial = Boolean(row.isMultinomial);
  const next = rng(m.numCols);
  const xs = Array.from({ length: 25 }, () => randomSparse(m.numCols, 12, next));
  const stage = await loadStage(dir);
  assert.equal(stage.modelOutputs?.numClasses, Number(row.numClasses));
  const frame = await run(stage, frameWith(stage.inputCols[0]!, xs));
  const raws = vectors(frame, 'rawPrediction');
  const probs = vectors(frame, 'probability');
  const preds = doubles(frame, 'prediction');
  xs.forEach((x, i) => {
    const margins = Array.from({ length: m.numRows }, (_, r) => dotDense(x, m.values, r * m.numCols) + b[r]!);
    const raw = multinomial ? margins : [-margins[0]!, margins[0]!];
    raw.forEach((v, k) => assert.ok(Math.abs(v - raws[i]![k]!) < 1e-9, `raw ${i}/${k}`));
    const max = Math.max(...raw);
    const e = raw.map((v) => Math.exp(v - max));
    const p = multinomial ? e.map((v) => v / e.reduce((s, c) => s + c, 0)) : [sigmoid(-raw[1]!), sigmoid(raw[1]!)];
    p.forEach((v, k) => assert.ok(Math.abs(v - probs[i]![k]!) < 1e-9, `probability ${i}/${k}`));
    assert.equal(preds[i], multinomial ? raw.indexOf(max) : raw[1]! > 0 ? 1 : 0);
  });
}
