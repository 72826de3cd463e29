import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bestLatencies, type LatencyResult } from '../../scripts/bench/latency.js';

const ok = { ok: true, missing: 0, duplicated: 0, unexpected: 0, mismatched: 0, examples: [] };
const at = (offered: number, p99: number, idsOk = true): LatencyResult =>
  ({ system: { key: 'spark' }, offered, p99, p50: p99 / 4, ids: idsOk ? ok : { ...ok, ok: false, missing: 1 } }) as unknown as LatencyResult;

test('latency over several runs: per load the run with the lowest p99, every run listed in order; a run whose ids failed is the one reported', () => {
  const runs = [
    [at(1000, 30), at(5000, 62.9)],
    [at(1000, 25), at(5000, 36)],
    [at(1000, 40), at(5000, 70)],
  ];
  const best = bestLatencies(runs);
  assert.deepEqual(best.map((r) => [r.offered, r.p99, r.p99Runs]), [
    [1000, 25, [30, 25, 40]],
    [5000, 36, [62.9, 36, 70]],
  ]);
  // One run is what it was, with no list.
  assert.deepEqual(bestLatencies([runs[0]!]).map((r) => [r.p99, r.p99Runs]), [[30, undefined], [62.9, undefined]]);
  assert.deepEqual(bestLatencies([]), []);
  const lost = bestLatencies([[at(5000, 20)], [at(5000, 10, false)]]);
  assert.equal(lost[0]!.ids.ok, false, 'a lost record is not hidden behind a quicker run');
  assert.deepEqual(lost[0]!.p99Runs, [20, 10]);
});
