import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/packages.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('bash init.sh --local brings up the broker and the runtime, prints the address and how to stop; stop ends both', { timeout: 180_000 }, (t) => {
  const state = tempDir('mlstream-init-');
  const env = { ...process.env, MLSTREAM_STATE_DIR: state, LOCAL_KAFKA_PORT: '0', HTTP_PORT: '0' };
  t.after(() => {
    spawnSync('bash', ['init.sh', 'stop'], { cwd: repoRoot, env });
    rmSync(state, { recursive: true, force: true });
  });
  const up = spawnSync('bash', ['init.sh', '--local'], { cwd: repoRoot, env, encoding: 'utf8', timeout: 150_000 });
  assert.equal(up.status, 0, `${up.stdout}\n${up.stderr}`);
  assert.match(up.stdout, /Up \(local mode\)/);
  assert.match(up.stdout, /Kafka bootstrap:\s+127\.0\.0\.1:\d+/);
  assert.match(up.stdout, /Stop:\s+bash init\.sh stop/);
  const brokerPid = Number(readFileSync(join(state, 'broker.pid'), 'utf8'));
  const runtimePid = Number(readFileSync(join(state, 'runtime.pid'), 'utf8'));
  assert.ok(alive(brokerPid) && alive(runtimePid), 'both processes run');
  assert.match(readFileSync(join(state, 'runtime.log'), 'utf8'), /"msg":"consuming"/);

  const status = spawnSync('bash', ['init.sh', 'status'], { cwd: repoRoot, env, encoding: 'utf8' });
  assert.match(status.stdout, /broker: running/);
  assert.match(status.stdout, /runtime: running/);

  const down = spawnSync('bash', ['init.sh', 'stop'], { cwd: repoRoot, env, encoding: 'utf8' });
  assert.equal(down.status, 0);
  assert.ok(!alive(runtimePid), 'the runtime is stopped');
  assert.ok(!alive(brokerPid) || readFileSync(`/proc/${brokerPid}/stat`, 'utf8').split(' ')[2] === 'Z', 'the broker is stopped');
});

test('init.sh answers a bad argument with its usage', () => {
  const r = spawnSync('bash', ['init.sh', '--fast'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /usage: bash init\.sh/);
});
