import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyShare } from '../../../runtime/engine/routing.js';
import { servingRoles } from '../../../runtime/packages/serving.js';

test('the latest valid version serves by default; a pin names another, and falls back to the latest (saying so) when that version is not loaded', () => {
  assert.deepEqual(servingRoles({}, 'versioned', ['1', '3', '2']), { primary: '3', problems: [] });
  assert.deepEqual(servingRoles({ version_policy: { pin: 2 } }, 'versioned', ['1', '3', '2']), { primary: '2', problems: [] });
  const missing = servingRoles({ version_policy: { pin: 7 } }, 'versioned', ['1', '3']);
  assert.equal(missing.primary, '3');
  assert.match(missing.problems[0]!, /pinned version 7 is not loaded/);
});

test('a canary without a version is the latest, and the primary is the next valid version below it', () => {
  const roles = servingRoles({ rollout: { canary: { percent: 10 } } }, 'versioned', ['1', '2', '4']);
  assert.equal(roles.primary, '2');
  assert.deepEqual(roles.canary, { version: '4', percent: 10 });
  const pinned = servingRoles({ version_policy: { pin: 1 }, rollout: { canary: { version: 4, percent: 25 } } }, 'versioned', ['1', '2', '4']);
  assert.equal(pinned.primary, '1');
  assert.deepEqual(pinned.canary, { version: '4', percent: 25 });
});

test('a canary or shadow that cannot apply is dropped with a reason, never served in place of the primary', () => {
  const only = servingRoles({ rollout: { canary: { percent: 50 } } }, 'versioned', ['3']);
  assert.equal(only.primary, '3');
  assert.equal(only.canary, undefined);
  assert.match(only.problems[0]!, /only loaded version/);
  const shadowIsPrimary = servingRoles({ rollout: { shadow: { version: 3 } } }, 'versioned', ['2', '3']);
  assert.equal(shadowIsPrimary.shadow, undefined);
  assert.match(shadowIsPrimary.problems[0]!, /is the primary version/);
  const shadow = servingRoles({ rollout: { shadow: { version: 2, topic: 's' } } }, 'versioned', ['2', '3']);
  assert.deepEqual(shadow.shadow, { version: '2', topic: 's' });
  const flat = servingRoles({ rollout: { canary: { percent: 10 } } }, 'flat', ['0123456789ab']);
  assert.equal(flat.primary, '0123456789ab');
  assert.match(flat.problems[0]!, /need numbered version folders/);
});

test('the canary share is a stable function of the key, spread evenly over [0, 1)', () => {
  const at = (key: string, offset: string): number => keyShare({ topic: 't', partition: 0, offset, key: Buffer.from(key), value: null });
  assert.equal(at('customer-42', '1'), at('customer-42', '999'), 'the offset does not matter when there is a key');
  const n = 20_000;
  let below10 = 0;
  let below50 = 0;
  for (let i = 0; i < n; i++) {
    const s = at(`k${i}`, '0');
    assert.ok(s >= 0 && s < 1);
    if (s < 0.1) below10++;
    if (s < 0.5) below50++;
  }
  assert.ok(Math.abs(below10 / n - 0.1) < 0.01, `${below10 / n} of keys under 0.1`);
  assert.ok(Math.abs(below50 / n - 0.5) < 0.015, `${below50 / n} of keys under 0.5`);
});
