import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../helpers/fixtures.js';
import { tempDir } from '../../helpers/packages.js';

function mlstream(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin/mlstream.js'), ...args], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'error' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const BASE = ['train', '--input-topic', 'labelled', '--name', 'm', '--bootstrap-server', '127.0.0.1:1'];

test('train --help names every interface flag of the issue', () => {
  const r = mlstream('train', '--help');
  assert.equal(r.code, 0);
  for (const flag of ['--input-topic', '--label', '--algorithm', '--text', '--columns', '--features', '--name', '--models-dir', '--every', '--every-seconds', '--k', '--input-format', '--until-end', '--warm-start']) {
    assert.match(r.out, new RegExp(`${flag}\\b`), flag);
  }
});

test('bad train flags end in a usage message and exit code 2, before any connection', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--algorithm', 'logistic-sgd', '--label', 'y'], /exactly one of --text, --columns, --features/],
    [['--algorithm', 'logistic-sgd', '--text', 't', '--columns', 'a'], /exactly one of --text, --columns, --features/],
    [['--algorithm', 'linear-sgd', '--columns', 'a,b'], /--label is required for linear-sgd/],
    [['--algorithm', 'kmeans', '--columns', 'a', '--mini-batch-fraction', '1.5'], /must be in \(0, 1\]/],
    [['--algorithm', 'forest', '--columns', 'a'], /Allowed choices are logistic-sgd, linear-sgd, kmeans/],
    [['--algorithm', 'logistic-sgd', '--label', 'y', '--text', 't', '--standardize'], /--standardize centres the features/],
    [['--algorithm', 'kmeans', '--columns', 'a', '--every', '0'], /must be a whole number ≥ 1/],
  ];
  for (const [args, message] of cases) {
    const r = mlstream(...BASE, ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, message);
  }
  const badName = mlstream('train', '--input-topic', 'x', '--name', '../escape', '--algorithm', 'kmeans', '--columns', 'a');
  assert.equal(badName.code, 2);
  assert.match(badName.err, /must be a folder name/);
});

test('a --features package that cannot give features is refused with exit code 2, naming the file', (t) => {
  const dir = tempDir('mlstream-train-cli-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pkg = join(dir, 'broken');
  mkdirSync(pkg);
  writeFileSync(join(pkg, 'config.json'), '{"input_schema": {"a": "DOUBLE"}}');
  const r = mlstream(...BASE, '--algorithm', 'kmeans', '--features', pkg, '--models-dir', join(dir, 'models'));
  assert.equal(r.code, 2, r.err + r.out);
  assert.match(r.out, /cannot start training: .*metadata/);
});
