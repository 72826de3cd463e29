import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/fixtures.js';
import { mlstreamBin } from '../helpers/built-bin.js';

function mlstream(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [mlstreamBin(), ...args], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'silent' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('--help lists the commands and exits 0', () => {
  const r = mlstream('--help');
  assert.equal(r.code, 0);
  for (const c of ['serve', 'validate', 'topics']) assert.match(r.out, new RegExp(`\\b${c}\\b`));
});

test('serve --help documents each setting with its environment variable', () => {
  const r = mlstream('serve', '--help');
  assert.equal(r.code, 0);
  assert.match(r.out, /--bootstrap-server <value>/);
  assert.match(r.out, /KAFKA_BOOTSTRAP_SERVER/);
  assert.match(r.out, /MODEL_PIPELINE/);
});

test('an unknown command or flag gets a usage message and exit code 2', () => {
  const a = mlstream('predict-everything');
  assert.equal(a.code, 2);
  assert.match(a.err, /unknown command/);
  const b = mlstream('serve', '--no-such-flag');
  assert.equal(b.code, 2);
  assert.match(b.err, /unknown option/);
});

test('a bad setting stops serve before it connects, naming the variable', () => {
  const r = mlstream('serve', '--starting-offset', 'sideways');
  assert.equal(r.code, 2);
  assert.match(r.err, /KAFKA_STARTING_OFFSET \(--starting-offset\) must be earliest or latest/);
});

test('validate refuses a folder that is not a package, naming the file', () => {
  const r = mlstream('validate', join(repoRoot, 'schemas'));
  assert.equal(r.code, 1);
  assert.match(r.err, /REFUSED/);
  assert.match(r.err, /config\.json/);
});
