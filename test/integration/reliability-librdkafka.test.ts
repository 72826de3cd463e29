import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { skipWithoutFixtures } from '../helpers/fixtures.js';

/*
 * The delivery and reliability tests (test/integration/reliability/) once more, with every
 * runtime they start on the second Kafka client: KAFKA_CLIENT=librdkafka. The main run covers
 * the default client (kafkajs); this is what lets docs/performance.md say both pass them.
 * One nested test run: its summary and, on failure, its failing tests are reported here.
 */
const dir = fileURLToPath(new URL('./reliability/', import.meta.url));

test('the delivery and reliability tests pass with KAFKA_CLIENT=librdkafka', { skip: skipWithoutFixtures, timeout: 900_000 }, async (t) => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join(dir, f));
  assert.ok(files.length >= 5, `reliability test files: ${files.join(', ')}`);
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
    // NODE_TEST_CONTEXT would make the nested runner report to this one instead of running as its own.
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), KAFKA_CLIENT: 'librdkafka' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  // 'close': after the output's last bytes were read ('exit' can come before them).
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const count = (what: string): number => Number(new RegExp(`^ℹ ${what} (\\d+)$`, 'm').exec(out)?.[1] ?? NaN);
  for (const line of out.split('\n').filter((l) => /^[✔✖﹣] /.test(l))) t.diagnostic(line.slice(0, 160));
  const failing = out.slice(out.indexOf('✖ failing tests:') >= 0 ? out.indexOf('✖ failing tests:') : Math.max(0, out.length - 4000));
  assert.equal(code, 0, `the nested run failed:\n${failing}`);
  assert.ok(count('pass') >= 10, `passed: ${count('pass')}`);
  assert.equal(count('fail'), 0);
  assert.equal(count('skipped'), 0, 'every reliability test ran on the librdkafka client');
});
