import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/fixtures.js';
import { collectUntil, produceAll } from '../helpers/kafka.js';
import { tempDir } from '../helpers/packages.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('bash init.sh --local brings up the broker and the runtime serving every shipped package, restarts the runtime alone keeping topic data, and stop ends both', { timeout: 300_000 }, async (t) => {
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
  let runtimePid = Number(readFileSync(join(state, 'runtime.pid'), 'utf8'));
  assert.ok(alive(brokerPid) && alive(runtimePid), 'both processes run');
  assert.match(readFileSync(join(state, 'runtime.log'), 'utf8'), /"msg":"consuming"/);

  const status = spawnSync('bash', ['init.sh', 'status'], { cwd: repoRoot, env, encoding: 'utf8' });
  assert.match(status.stdout, /broker: running/);
  assert.match(status.stdout, /runtime: running/);

  // Every package in the folder serves (the shipped three, and any the user added, e.g. by the README's
  // training section), chosen by the mlstream-model header; records naming none go to spam-text.
  const inFolder = readdirSync(join(repoRoot, 'model-packages'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
  for (const shipped of ['iris-onnx', 'spam-text', 'spam-text-onnx']) assert.ok(inFolder.includes(shipped), shipped);
  const listed = inFolder.join(' ');
  assert.ok(up.stdout.includes(`serving every package in ./model-packages: ${listed}\n`), up.stdout);
  const bootstrap = /Kafka bootstrap:\s+(\S+)/.exec(up.stdout)![1]!;
  const iris = { petal_length: 1.4, petal_width: 0.2, sepal_length: 5.1, sepal_width: 3.5 };
  const mail = 'Subject: cheap meds\n\nBuy now, limited offer, click here';
  const sent = [
    { key: 'a', value: JSON.stringify({ id: 'a', ...iris }), headers: { 'mlstream-model': 'iris-onnx' } },
    { key: 'b', value: JSON.stringify({ id: 'b', text: mail }), headers: { 'mlstream-model': 'spam-text-onnx' } },
    { key: 'c', value: JSON.stringify({ id: 'c', text: mail }) },
  ];
  await produceAll(bootstrap, 'messages', sent);
  const served = await collectUntil(bootstrap, ['predictions', 'errors'], (s) => s.length >= 3, 60_000);
  const modelOf = new Map(served.map((r) => [r.key, `${r.topic}:${(r.value as { model: string }).model}`]));
  assert.deepEqual(Object.fromEntries(modelOf), { a: 'predictions:iris-onnx', b: 'predictions:spam-text-onnx', c: 'predictions:spam-text' });

  // The runtime alone restarts (here naming a default package that does not exist): the broker and its data stay.
  const restart = spawnSync('bash', ['init.sh', 'restart'], { cwd: repoRoot, env: { ...env, MODEL_PIPELINE: 'spam-txt' }, encoding: 'utf8', timeout: 120_000 });
  assert.equal(restart.status, 0, `${restart.stdout}\n${restart.stderr}`);
  assert.ok(restart.stderr.includes(`MODEL_PIPELINE=spam-txt names no folder in ./model-packages (packages there: ${listed})`), restart.stderr);
  assert.match(restart.stdout, /Reusing the running local broker .* topic data kept/);
  assert.equal(Number(readFileSync(join(state, 'broker.pid'), 'utf8')), brokerPid, 'the broker was not restarted');
  await produceAll(bootstrap, 'messages', [{ key: 'd', value: JSON.stringify({ id: 'd', ...iris }), headers: { 'mlstream-model': 'iris-onnx' } }]);
  const after = await collectUntil(bootstrap, ['predictions'], (s) => s.some((r) => r.key === 'd'), 60_000);
  assert.deepEqual(after.map((r) => r.key).sort(), ['a', 'b', 'c', 'd'], 'the outputs from before the restart are still on the topic, and d was served once');

  assert.ok(!alive(runtimePid), 'the first runtime was stopped by the restart');
  runtimePid = Number(readFileSync(join(state, 'runtime.pid'), 'utf8'));

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
