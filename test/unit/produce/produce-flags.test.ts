import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../helpers/cli-process.js';
import { repoRoot } from '../../helpers/fixtures.js';

// Port 9 (discard) on loopback: nothing listens, so a run that got past flag checks would fail to connect, not hang.
const offline = ['--bootstrap-server', '127.0.0.1:9'];

test('produce --help documents the dataset flags and the Kafka connection flags with their env variables', async () => {
  const r = await runCli(['produce', '--help']);
  assert.equal(r.code, 0);
  for (const flag of ['--topic', '--format', '--package', '--key', '--id', '--no-auto-id', '--rate', '--limit', '--repeat', '--batch-size', '--no-progress', '--bootstrap-server']) {
    assert.match(r.stdout, new RegExp(`${flag}\\b`), flag);
  }
  assert.match(r.stdout, /KAFKA_BOOTSTRAP_SERVER/);
});

test('bad produce flags end in a usage message and exit code 2, before any connection', async () => {
  const file = join(repoRoot, 'package.json');
  const cases: Array<[string[], RegExp]> = [
    [['produce', file, '--rate', 'fast'], /option '--rate <msgs\/s>' argument 'fast' is invalid\. must be a number > 0/],
    [['produce', file, '--limit', '0'], /--limit <n>' argument '0' is invalid/],
    [['produce', file, '--repeat', '1.5'], /--repeat <n>' argument '1\.5' is invalid/],
    [['produce', file, '--format', 'xml'], /argument 'xml' is invalid\. Allowed choices are json, tf-example/],
    [['produce', file, '--topic', 'no spaces'], /is not a valid Kafka topic name/],
    [['produce', file, '--frobnicate'], /unknown option '--frobnicate'/],
    [['produce'], /missing required argument 'path'/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli([...args, ...offline]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('a path that does not exist, or a package without config.json, is a usage error (exit 2) naming it', async () => {
  const missing = await runCli(['produce', '/nonexistent/data.jsonl', ...offline]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /ENOENT.*\/nonexistent\/data\.jsonl/);
  const noPackage = await runCli(['produce', join(repoRoot, 'package.json'), '--input-type', 'jsonl', '--package', '/nonexistent/pkg', ...offline]);
  assert.equal(noPackage.code, 2);
  assert.match(noPackage.stderr, /--package: cannot read \/nonexistent\/pkg\/config\.json/);
});

test('with no broker answering, produce says so and exits 1 within seconds', async () => {
  const started = Date.now();
  const r = await runCli(['produce', join(repoRoot, 'package.json'), '--input-type', 'jsonl', ...offline]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot reach Kafka at 127\.0\.0\.1:9/);
  assert.ok(Date.now() - started < 15_000);
});

test('a CSV of numbers without --package is refused before connecting (every row would fail the schema as text), naming the columns and both ways out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlstream-csv-'));
  try {
    const file = join(dir, 'iris.csv');
    writeFileSync(file, 'species,petal_length,petal_width\nsetosa,1.4,0.2\nvirginica,6.1,2.3\n');
    const r = await runCli(['produce', file, ...offline]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^mlstream produce: without --package every CSV cell is sent as text, so a model expecting numbers in petal_length, petal_width would refuse every row \(SCHEMA_VIOLATION\) — pass --package <model dir> .* or --cells-as-text/);
    assert.doesNotMatch(r.stderr, /cannot reach Kafka/, 'refused before any connection');
    const asText = await runCli(['produce', file, '--cells-as-text', ...offline]);
    assert.match(asText.stderr, /cannot reach Kafka at 127\.0\.0\.1:9/, '--cells-as-text goes on to connect');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
