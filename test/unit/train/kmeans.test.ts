import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decayForHalfLife, randomCenters, updateKMeans, type KMeansState } from '../../../runtime/train/kmeans.js';

/** StreamingKMeansModel.update's rule, on batches worked out by hand. */

const state = (centers: number[][], weights: number[]): KMeansState => ({ centers: Float64Array.from(centers.flat()), weights: Float64Array.from(weights), dim: centers[0]!.length });
const v = (...x: number[]): Float64Array => Float64Array.from(x);

test('a centre moves to the weighted mean of its old position (its weight) and the new points', () => {
  const s = state([[0, 0], [10, 10]], [2, 1]);
  updateKMeans(s, [v(2, 0), v(4, 0)], { k: 2, decayFactor: 1, timeUnit: 'batches' });
  // (2·[0,0] + [6,0]) / 4
  assert.deepEqual(Array.from(s.centers), [1.5, 0, 10, 10]);
  assert.deepEqual(Array.from(s.weights), [4, 1]);
});

test('decay discounts every weight once per batch, or per point with timeUnit points', () => {
  const batches = state([[0, 0], [10, 10]], [2, 1]);
  updateKMeans(batches, [v(2, 0), v(4, 0)], { k: 2, decayFactor: 0.5, timeUnit: 'batches' });
  // weight 2·0.5 = 1, then (1·[0,0] + [6,0]) / 3
  assert.deepEqual(Array.from(batches.centers), [2, 0, 10, 10]);
  assert.deepEqual(Array.from(batches.weights), [3, 0.5]);
  const points = state([[0, 0], [10, 10]], [2, 1]);
  updateKMeans(points, [v(2, 0), v(4, 0)], { k: 2, decayFactor: 0.5, timeUnit: 'points' });
  assert.deepEqual(Array.from(points.weights), [2.5, 0.25]);
  assert.ok(Math.abs(decayForHalfLife(5) ** 5 - 0.5) < 1e-15, 'after a half-life the weight has halved');
});

test('a dying cluster (under 1e-8 of the heaviest) takes half the heaviest one, split by ±1e-14 per coordinate', () => {
  const s = state([[1, 100], [50, 50]], [1, 1e-9]);
  updateKMeans(s, [v(1, 100)], { k: 2, decayFactor: 1, timeUnit: 'batches' });
  assert.deepEqual(Array.from(s.weights), [(2 + 1e-9) / 2, (2 + 1e-9) / 2]);
  assert.deepEqual(Array.from(s.centers), [1 + 1e-14, 100 + 1e-12, 1 - 1e-14, 100 - 1e-12]);
});

test('random initial centres are standard normal draws fixed by the seed', () => {
  assert.deepEqual(randomCenters(3, 4, 0, 42), randomCenters(3, 4, 0, 42));
  assert.notDeepEqual(randomCenters(3, 4, 0, 42).centers, randomCenters(3, 4, 0, 43).centers);
  const many = randomCenters(1000, 10, 0, 1).centers;
  const mean = many.reduce((s, x) => s + x, 0) / many.length;
  const variance = many.reduce((s, x) => s + (x - mean) ** 2, 0) / many.length;
  assert.ok(Math.abs(mean) < 0.05 && Math.abs(variance - 1) < 0.05, `mean ${mean}, variance ${variance}`);
});
