// KMeansModel: closest centre by Spark's search (squared Euclidean or cosine distance).
//   node --import tsx --test test/unit/spark/clustering.test.ts
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ErrorCodes } from '../../../runtime/errors.js';
import { ParamReader, type SparkMetadata } from '../../../runtime/packages/spark-format.js';
import { loadSparkObject } from '../../../runtime/packages/spark-loader.js';
import { Frame, type Vector } from '../../../runtime/pipeline/frame.js';
import { buildFrame, parseInputSchema } from '../../../runtime/pipeline/input-schema.js';
import { Pipeline } from '../../../runtime/pipeline/pipeline.js';
import { StageRegistry } from '../../../runtime/pipeline/registry.js';
import type { Stage, StageContext } from '../../../runtime/pipeline/stage.js';
import { clusteringStages } from '../../../runtime/stages/spark/clustering.js';
import { featureStages } from '../../../runtime/stages/spark/features.js';
import { fixture, readSparkCsv, skipWithoutFixtures } from '../../helpers/fixtures.js';

const KMEANS = 'org.apache.spark.ml.clustering.KMeansModel';

function dense(values: number[]): { type: number; values: number[] } {
  return { type: 1, values };
}

async function kmeans(centers: number[][], paramMap: Record<string, unknown> = {}, sparkVersion = '3.3.0'): Promise<Stage> {
  const metadata: SparkMetadata = { class: KMEANS, uid: 'KMeans_test', sparkVersion, paramMap };
  const rows = centers.map((c, i) => ({ clusterIdx: i, clusterCenter: dense(c) })).reverse();
  const ctx: StageContext = {
    dir: '/nonexistent',
    metadata,
    params: new ParamReader(metadata, 'test'),
    readData: async () => rows,
    loadNested: async () => [],
  };
  return clusteringStages[KMEANS]!(ctx);
}

async function predict(s: Stage, points: (Vector | null)[], featuresCol = 'features'): Promise<Frame> {
  const frame = Frame.ofLength(points.length);
  frame.set(featuresCol, { type: 'vector', size: -1, values: points });
  await s.transform(frame);
  frame.compact();
  return frame;
}

/** A small deterministic generator (mulberry32) for the property test. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('KMeansModel', () => {
  const centers = [
    [0, 0],
    [10, 0],
    [0, 10],
  ];

  test('assigns the closest centre (centres ordered by clusterIdx), dense or sparse input', async () => {
    const s = await kmeans(centers);
    const frame = await predict(s, [Float64Array.of(1, 1), Float64Array.of(9, 1), { size: 2, indices: Int32Array.of(1), values: Float64Array.of(8) }]);
    assert.deepEqual(frame.getTyped('prediction', 'double').values, Float64Array.of(0, 1, 2));
  });

  test('a point equidistant from two centres goes to the first, in every Spark version', async () => {
    for (const version of ['2.4.0', '3.1.1', '3.3.0']) {
      const frame = await predict(await kmeans(centers, {}, version), [Float64Array.of(5, 0)]);
      assert.equal(frame.getTyped('prediction', 'double').values[0], 0, version);
    }
  });

  test('a renamed predictionCol / featuresCol is where the model reads and writes, and its model output', async () => {
    const s = await kmeans(centers, { predictionCol: 'cluster', featuresCol: 'fv' });
    assert.deepEqual(s.modelOutputs, { predictionCol: 'cluster' });
    assert.deepEqual([s.inputCols, s.outputCols], [['fv'], ['cluster']]);
    const frame = await predict(s, [Float64Array.of(0, 7)], 'fv');
    assert.equal(frame.getTyped('cluster', 'double').values[0], 2);
  });

  test('cosine distance compares directions; a zero vector fails its row', async () => {
    const s = await kmeans([[1, 0], [0, 1]], { distanceMeasure: 'cosine' });
    const frame = await predict(s, [Float64Array.of(20, 1), Float64Array.of(1, 3), Float64Array.of(0, 0)]);
    assert.deepEqual(frame.getTyped('prediction', 'double').values, Float64Array.of(0, 1));
    assert.equal(frame.rejections[0]!.code, ErrorCodes.PIPELINE_ERROR);
  });

  test('null and wrong-size feature vectors fail their rows only', async () => {
    const frame = await predict(await kmeans(centers), [null, Float64Array.of(1, 2, 3), Float64Array.of(9, 9)]);
    assert.deepEqual([...frame.rowIds], [2]);
    assert.equal(frame.rejections.length, 2);
  });

  test('Spark 1.6 layout: one row holding all clusterCenters', async () => {
    const metadata: SparkMetadata = { class: KMEANS, uid: 'KMeans_old', sparkVersion: '1.6.0', paramMap: {} };
    const ctx: StageContext = {
      dir: '/nonexistent',
      metadata,
      params: new ParamReader(metadata, 'test'),
      readData: async () => [{ clusterCenters: centers.map(dense) }],
      loadNested: async () => [],
    };
    const frame = await predict(await clusteringStages[KMEANS]!(ctx), [Float64Array.of(0, 9)]);
    assert.equal(frame.getTyped('prediction', 'double').values[0], 2);
  });

  test('the bounded search of Spark 3.1+ agrees with a brute-force argmin on random data', async () => {
    const next = random(42);
    const k = 12;
    const dims = 5;
    const cs = Array.from({ length: k }, () => Array.from({ length: dims }, () => next() * 10));
    const points = Array.from({ length: 400 }, () => Float64Array.from({ length: dims }, () => next() * 12 - 1));
    for (const version of ['2.4.0', '3.2.0', '3.3.0']) {
      const got = (await predict(await kmeans(cs, {}, version), points)).getTyped('prediction', 'double').values;
      points.forEach((p, i) => {
        const d = cs.map((c) => c.reduce((s, x, j) => s + (x - p[j]!) ** 2, 0));
        assert.equal(got[i], d.indexOf(Math.min(...d)), `${version} point ${i}`);
      });
    }
  });
});

describe('KMeansModel on jpmml33-iris-kmeans', { skip: skipWithoutFixtures }, () => {
  test('VectorAssembler → KMeansModel(k 11, predictionCol cluster): every cluster as Spark assigned it', async () => {
    const registry = new StageRegistry();
    for (const [cls, factory] of Object.entries({ ...featureStages, ...clusteringStages })) registry.register(cls, factory);
    const dir = fixture('jpmml33-iris-kmeans');
    const schema = { Sepal_Length: 'DOUBLE', Sepal_Width: 'DOUBLE', Petal_Length: 'DOUBLE', Petal_Width: 'DOUBLE' };
    const pipeline = new Pipeline(await loadSparkObject(dir, registry), Object.keys(schema));
    assert.deepEqual(pipeline.outputs, { predictionCol: 'cluster' });
    const { header, rows } = readSparkCsv(join(dir, 'sample/input-Iris.csv'));
    const records = rows.map((r) => Object.fromEntries(Object.keys(schema).map((c) => [c, Number(r[header.indexOf(c)])])));
    const out = await pipeline.run(buildFrame(records, parseInputSchema(schema)));
    const expected = readSparkCsv(join(dir, 'sample/expected-KMeansIris.csv')).rows.map((r) => Number(r[0]));
    assert.deepEqual(Array.from(out.getTyped('cluster', 'double').values), expected);
  });
});
