import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { cpuSeconds, machineCpu } from '../../scripts/bench/child.js';

// The bench's whole-machine CPU figure (/proc/stat): this process's own busy spell must show
// in it, and its total must advance by about the cores × the wall time.
test('machineCpu counts this process spinning as busy time, and all cores in its total', () => {
  const before = machineCpu();
  const ownBefore = cpuSeconds(process.pid);
  const started = performance.now();
  // Spin until this process has used 0.3 s of CPU (however busy the machine is), at most 20 s.
  while (cpuSeconds(process.pid) - ownBefore < 0.3 && performance.now() - started < 20_000) for (let i = 0; i < 1e5; i++);
  const wallS = (performance.now() - started) / 1000;
  const after = machineCpu();
  const own = cpuSeconds(process.pid) - ownBefore;
  const busy = after.busyS - before.busyS;
  const total = after.totalS - before.totalS;
  assert.ok(own >= 0.3, `this process spun for ${own} s of CPU`);
  // Clock ticks are 10 ms, and the kernel counts the two figures apart: /proc/stat samples each
  // CPU at its ticks, a process's own time is accounted at its context switches. A CI run saw
  // them 2 ticks apart exactly (0.28 against 0.30 s), which the float sum then put just past a
  // 2-tick bound; allow 3 ticks and 5%, still far less than this process's whole spell.
  assert.ok(busy >= own * 0.95 - 0.03, `machine busy ${busy} s covers this process's ${own} s`);
  // The kernel's idle counter can step back by a tick on a fully loaded machine (found when
  // this test ran beside a compile), so busy may exceed the total by that much, no more.
  assert.ok(busy <= total + 0.02, `busy ${busy} s is part of the total ${total} s`);
  const cores = availableParallelism();
  assert.ok(Math.abs(total - cores * wallS) <= cores * 0.05 + 0.02, `total ${total} s ≈ ${cores} cores × ${wallS} s`);
});
