import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gradientDescentBatch, sampleDraw, type LabelledPoint, type SgdParams } from '../../../runtime/train/sgd.js';

/** Spark's GradientDescent update rules, checked on batches small enough to work out by hand. */

const params = (p: Partial<SgdParams>): SgdParams => ({
  stepSize: 1,
  numIterations: 1,
  miniBatchFraction: 1,
  regParam: 0,
  updater: 'simple',
  convergenceTol: 0,
  intercept: false,
  ...p,
});
const point = (x: number[], label: number, offset = 0): LabelledPoint => ({ features: Float64Array.from(x), label, partition: 0, offset: BigInt(offset) });

test('one logistic iteration steps by stepSize against the mean gradient (σ(w·x) − y)·x', () => {
  const w = new Float64Array(2);
  // At w = 0 every σ is 0.5: multipliers −0.5 and +0.5; mean gradient ([−0.5, −1] + [1.5, −0.5]) / 2 = [0.5, −0.75].
  gradientDescentBatch(w, [point([1, 2], 1), point([3, -1], 0)], 'logistic', params({ stepSize: 0.5 }));
  assert.deepEqual(Array.from(w), [-0.25, 0.375]);
});

test('iteration i steps by stepSize/√i, counted from 1 again in every micro-batch', () => {
  const w = new Float64Array(1);
  const batch = [point([2], 2)];
  // Least squares, x = 2, y = 2: gradient (2w − 2)·2. i=1: w = 0 − 1·(−4) = 4. i=2: gradient 12, w = 4 − 12/√2.
  gradientDescentBatch(w, batch, 'squared', params({ numIterations: 2 }));
  assert.equal(w[0], 4 - 12 / Math.SQRT2);
  const again = Float64Array.of(0);
  gradientDescentBatch(again, batch, 'squared', params({ numIterations: 1 }));
  gradientDescentBatch(again, batch, 'squared', params({ numIterations: 1 }));
  // A second one-iteration batch steps by the full stepSize again: 4 − 1·12 = −8.
  assert.equal(again[0], -8);
});

test('squared-l2 shrinks the weights by (1 − step·regParam) before the step; l1 soft-thresholds by step·regParam after it', () => {
  const l2 = Float64Array.of(1, -2);
  // A label equal to the margin gives a zero gradient, leaving only the regulariser.
  gradientDescentBatch(l2, [point([1, 0], 1)], 'squared', params({ updater: 'squared-l2', regParam: 0.1, stepSize: 0.5 }));
  assert.deepEqual(Array.from(l2), [0.95, -1.9]);
  const l1 = Float64Array.of(1, -0.02);
  gradientDescentBatch(l1, [point([1, 0], 1)], 'squared', params({ updater: 'l1', regParam: 0.1, stepSize: 0.5 }));
  // signum(w)·max(0, |w| − step·regParam), as Spark computes it: a negative weight shrinks to −0.
  assert.deepEqual(Array.from(l1), [0.95, -0]);
});

test('an intercept is a last weight for a constant 1.0 feature', () => {
  const w = new Float64Array(2);
  // Least squares, x = [0], y = 3: only the intercept's gradient (0 − 3)·1 is non-zero.
  gradientDescentBatch(w, [point([0], 3)], 'squared', params({ intercept: true }));
  assert.deepEqual(Array.from(w), [0, 3]);
});

test('gradient descent stops early once the weights move less than convergenceTol · max(‖w‖, 1)', () => {
  const w = new Float64Array(1);
  const ran = gradientDescentBatch(w, [point([1], 1)], 'squared', params({ numIterations: 50, convergenceTol: 0.01 }));
  // i=1 lands on the optimum (w = 1); i=2 does not move it, which is the first comparison Spark makes.
  assert.equal(ran, 2);
  assert.equal(w[0], 1);
});

test('mini-batch sampling is a fixed function of partition, offset and iteration, taking about the asked fraction', () => {
  assert.equal(sampleDraw(3, 12345n, 7), sampleDraw(3, 12345n, 7));
  assert.notEqual(sampleDraw(3, 12345n, 7), sampleDraw(3, 12345n, 8));
  let taken = 0;
  for (let o = 0; o < 10_000; o++) if (sampleDraw(0, BigInt(o), 1) < 0.3) taken++;
  assert.ok(taken > 2800 && taken < 3200, `${taken} of 10000 drawn at fraction 0.3`);
  const batch = Array.from({ length: 40 }, (_, i) => point([i % 5, 1], i % 2, i));
  const a = new Float64Array(2);
  const b = new Float64Array(2);
  gradientDescentBatch(a, batch, 'logistic', params({ miniBatchFraction: 0.5, numIterations: 5 }));
  gradientDescentBatch(b, batch, 'logistic', params({ miniBatchFraction: 0.5, numIterations: 5 }));
  assert.deepEqual(a, b);
});
