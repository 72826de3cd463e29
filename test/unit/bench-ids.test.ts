import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkIds, type Output } from '../../scripts/bench/outputs.js';

const out = (key: string, id?: unknown): Output => ({ topic: 'predictions', key, id, timestamp: 0, arrivedAt: 0 });

test('the benchmark passes a run only when every input id comes out exactly once and nothing else does', () => {
  const expected = ['r0', 'r1', 'r2', 'r3'];
  assert.equal(checkIds([out('r0', 'r0'), out('r1'), out('r2', 'r2'), out('r3', null)], expected).ok, true);

  const lost = checkIds([out('r0'), out('r1'), out('r3')], expected);
  assert.deepEqual([lost.ok, lost.missing, lost.duplicated, lost.unexpected], [false, 1, 0, 0]);
  assert.ok(lost.examples.includes('id r2 missing'));

  const repeated = checkIds([out('r0'), out('r1'), out('r1'), out('r2'), out('r3')], expected);
  assert.deepEqual([repeated.ok, repeated.missing, repeated.duplicated], [false, 0, 1]);

  const stray = checkIds([out('r0'), out('r1'), out('r2'), out('r3'), out('x9')], expected);
  assert.deepEqual([stray.ok, stray.unexpected], [false, 1]);

  const crossed = checkIds([out('r0', 'r1'), out('r1', 'r0'), out('r2'), out('r3')], expected);
  assert.deepEqual([crossed.ok, crossed.mismatched], [false, 2]);
});
