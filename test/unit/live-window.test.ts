import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SlidingWindow, type TickCounts } from '../../runtime/http/live-window.js';

const tick = (inputs: number, latencies: number[] = inputs ? [10] : []): TickCounts => ({
  inputs,
  predictions: inputs,
  errors: 0,
  labels: inputs ? { spam: inputs } : {},
  errorsByCode: {},
  latencies,
});

test('slices landing in every other tick (40/s arriving as 40 per second) draw a steady 40/s once the window is full, not 0 and 80', () => {
  const w = new SlidingWindow(500, 10);
  const rates: number[] = [];
  for (let i = 0; i < 30; i++) rates.push(w.push(tick(i % 2 === 0 ? 40 : 0)).inputs);
  for (const r of rates.slice(10)) assert.equal(r, 40);
  assert.equal(w.push(tick(40)).labels.spam, 40, 'labels are rates over the window too');
});

test('latency is present while any record came within the window, and null only after a whole window without records', () => {
  const w = new SlidingWindow(500, 4);
  assert.deepEqual(w.push(tick(5, [10, 20, 30, 40])).latencyMs, { p50: 30, p95: 40, max: 40 });
  for (let i = 0; i < 3; i++) assert.notEqual(w.push(tick(0)).latencyMs, null, `idle tick ${i + 1} of 4 still has the window's samples`);
  const idle = w.push(tick(0));
  assert.equal(idle.latencyMs, null);
  assert.equal(idle.inputs, 0);
});

test('before a full window has passed, rates are over the time that has passed', () => {
  const w = new SlidingWindow(500, 10);
  const first = w.push(tick(20));
  assert.equal(first.spanMs, 500);
  assert.equal(first.inputs, 40);
});
