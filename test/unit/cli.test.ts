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

test('every command\'s --help shows defaults and examples', () => {
  for (const command of ['serve', 'validate', 'topics', 'produce', 'consume']) {
    const r = mlstream(command, '--help');
    assert.equal(r.code, 0, command);
    assert.match(r.out, /\nExamples:\n {2}\$ mlstream /, `${command} --help has examples`);
  }
  const serve = mlstream('serve', '--help').out.replace(/\s+/g, ' ');
  assert.match(serve, /-b, --bootstrap-server <value> Kafka bootstrap servers, comma-separated \[env KAFKA_BOOTSTRAP_SERVER, default localhost:9092\]/);
  assert.match(serve, /-m, --models-dir <value> folder holding model package folders \[env MODELS_DIR, default \.\/model-packages\]/);
  assert.match(mlstream('--help').out, /Exit codes: 0 done, 1 failed .*, 2 usage or configuration error, 130 interrupted/);
});

test('--ssl is a switch: given alone it turns TLS on, so a missing CA file is reported as a one-line configuration error', () => {
  const r = mlstream('serve', '--ssl', '--ssl-ca-file', '/nonexistent/ca.pem', '-b', '127.0.0.1:9');
  assert.equal(r.code, 2);
  assert.equal(r.err, 'mlstream serve: configuration error: KAFKA_SSL_CA_FILE (--ssl-ca-file): cannot read /nonexistent/ca.pem (ENOENT: no such file or directory, open \'/nonexistent/ca.pem\') — see --help for the setting\n');
  const without = mlstream('serve', '--ssl-ca-file', '/nonexistent/ca.pem', '-b', '127.0.0.1:9');
  assert.doesNotMatch(without.err, /configuration error/, 'without --ssl the CA file is not read');
});

test('--kafka-client takes kafkajs or librdkafka', () => {
  const bad = mlstream('serve', '--kafka-client', 'nope', '-b', '127.0.0.1:9');
  assert.equal(bad.code, 2);
  assert.equal(bad.err, 'mlstream serve: configuration error: KAFKA_CLIENT (--kafka-client) must be kafkajs or librdkafka, got "nope" — see --help for the setting\n');
});

test('--verbose adds the stack trace under the one-line error; without it there is only the line', () => {
  const plain = mlstream('topics', '-b', '127.0.0.1:9');
  assert.equal(plain.code, 1);
  assert.equal(plain.err.trim().split('\n').length, 1, plain.err);
  const verbose = mlstream('topics', '-b', '127.0.0.1:9', '--verbose');
  assert.equal(verbose.code, 1);
  const [first, ...stack] = verbose.err.trim().split('\n');
  assert.equal(first, plain.err.trim());
  assert.ok(stack.some((l) => /^\s+at probeKafka /.test(l)), verbose.err);
});
