import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLocalBroker, type LocalBroker } from '../../scripts/broker/index.js';
import { repoRoot } from '../helpers/fixtures.js';
import { startRuntime, type RuntimeProcess } from '../helpers/runtime-process.js';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs playground/example.ts as a user would (tsx), with its own environment. */
function example(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'playground/example.ts'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

test('playground/example.ts --help explains itself with the CLI\'s flag names', async () => {
  const r = await example(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /usage: npx tsx playground\/example\.ts/);
  assert.match(r.stdout, /-b, --bootstrap-server <host:port>/);
  assert.doesNotMatch(r.stdout, /--bootstrap </, 'the old flag name works but is not advertised');
  assert.match(r.stdout, /KAFKA_BOOTSTRAP_SERVER/);
});

test('against the served spam-text package, example.ts prints a prediction for each text and the error for the invalid record', { timeout: 240_000 }, async (t) => {
  const broker: LocalBroker = await startLocalBroker({ topics: [{ name: 'messages', partitions: 3 }, { name: 'predictions' }, { name: 'errors' }] });
  let runtime: RuntimeProcess | undefined;
  t.after(async () => {
    await runtime?.stop();
    await broker.stop();
  });

  // The old flag name still reaches the broker.
  const unanswered = await example(['--bootstrap', broker.bootstrap, '--timeout', '3']);
  assert.equal(unanswered.code, 1, 'no runtime yet: nothing answers');
  assert.match(unanswered.stderr, /timed out after 3 s: no answer for .*Is the runtime running/);

  runtime = startRuntime({
    KAFKA_BOOTSTRAP_SERVER: broker.bootstrap,
    MODELS_DIR: join(repoRoot, 'model-packages'),
    MODEL_PIPELINE: 'spam-text',
    KAFKA_GROUP_ID: 'playground-e2e',
  });
  await runtime.waitForLog((l) => l.msg === 'model package serving' && l.model === 'spam-text', 90_000);
  await runtime.waitForLog((l) => l.msg === 'consuming', 60_000);

  const r = await example(['--bootstrap-server', broker.bootstrap, '--timeout', '120']);
  assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  const blocks = r.stdout.split('\n\n').filter((b) => /^ex\w+-/.test(b));
  assert.equal(blocks.length, 5, r.stdout);
  const answer = (id: string): string => blocks.find((b) => b.startsWith(`${id} `)) ?? '';
  const runId = /^(ex\w+)-/.exec(blocks[0]!)![1]!;
  for (const n of [1, 2, 3, 4]) assert.match(answer(`${runId}-${n}`), /prediction: (ham|spam) {2}\(ham 0\.\d{3}, spam 0\.\d{3}\) {2}\[spam-text@[0-9a-f]{12}\]/);
  assert.match(answer(`${runId}-1`), /prediction: ham/, 'the lunch invitation is ham');
  assert.match(answer(`${runId}-2`), /prediction: spam/, 'the free vacation is spam');
  assert.match(answer(`${runId}-bad`), /error: SCHEMA_VIOLATION — \/text must be string/);
  assert.match(r.stdout, /all 5 answered in [\d.]+ s/);
});
