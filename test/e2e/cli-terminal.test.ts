import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startLocalBroker, type LocalBroker } from '../../scripts/broker/index.js';
import { haveScript } from '../helpers/cli-process.js';
import { repoRoot } from '../helpers/fixtures.js';
import { collectUntil, produceAll } from '../helpers/kafka.js';
import { startRuntime, type RuntimeProcess } from '../helpers/runtime-process.js';
import { startInTerminal } from '../helpers/terminal.js';

/*
 * The command line as a person at a terminal meets it (util-linux `script` gives each run a
 * pseudo-terminal): `consume` showing predictions as they arrive, one-line errors when Kafka
 * or the HTTP port is not there, `--version`, and `-` for standard input.
 */

const skip = haveScript ? false : 'util-linux `script` (pseudo-terminal) is not installed';
const bin = join(repoRoot, 'bin/mlstream.js');
let broker: LocalBroker;
let runtime: RuntimeProcess | undefined;

before(async () => {
  broker = await startLocalBroker({ topics: ['messages', 'predictions', 'errors', 'piped'].map((name) => ({ name, partitions: 2 })) });
});
after(async () => {
  await runtime?.stop();
  await broker.stop();
});

/** A port nothing listens on: bound by the kernel, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const iris = (id: string, [sl, sw, pl, pw]: number[]): { key: string; value: string } => ({
  key: id,
  value: JSON.stringify({ id, sepal_length: sl, sepal_width: sw, petal_length: pl, petal_width: pw }),
});

test('consume -f under a terminal shows each prediction as it arrives (label, probability, model@version, latency) and Ctrl-C ends it with exit 0', { skip, timeout: 180_000 }, async () => {
  runtime = startRuntime({ KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, MODELS_DIR: join(repoRoot, 'model-packages'), MODEL_PIPELINE: 'iris-onnx', KAFKA_GROUP_ID: 'terminal-test' });
  await runtime.waitForLog((l) => l.msg === 'joined consumer group', 90_000);
  const consume = startInTerminal(['consume', '-f', '-b', broker.bootstrap]);
  await consume.waitFor(/following predictions, errors from the end \(Ctrl-C stops\)/, 60_000);

  const samples = [iris('setosa-like', [5.1, 3.5, 1.4, 0.2]), iris('virginica-like', [7.7, 3.0, 6.1, 2.3]), { key: 'broken', value: '{"id":"broken","sepal_length":"wide"}' }];
  for (const s of samples) {
    await produceAll(broker.bootstrap, 'messages', [s]);
    await consume.waitFor(new RegExp(`id=${s.key}\\b.*\\n`), 60_000);
  }
  const answers = await collectUntil(broker.bootstrap, ['predictions', 'errors'], (seen) => seen.length >= samples.length, 30_000);
  const lines = consume.screen().split('\n');
  for (const a of answers) {
    const body = a.value as { id: string; prediction?: string; probability?: Record<string, number>; version?: string; error?: { code: string } };
    const line = lines.find((l) => l.includes(`id=${body.id} `));
    assert.ok(line, `a line for ${body.id}`);
    if (body.prediction !== undefined) {
      const p = body.probability![body.prediction]!.toFixed(3);
      assert.match(line, new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} predictions/\\d@\\d+  id=${body.id}  ${body.prediction} ${p}  iris-onnx@${body.version}  \\d+ ms$`));
    } else {
      assert.match(line, new RegExp(`errors/\\d@\\d+  id=broken  ${body.error!.code} .*iris-onnx@[0-9a-f]+  \\d+ ms$`));
    }
  }
  assert.equal(answers.filter((a) => a.topic === 'predictions').length, 2);

  consume.type('\u0003');
  assert.equal(await consume.exited(20_000), 0, consume.screen());
  assert.match(consume.screen(), /3 records read/);
});

test('serve stopped by SIGTERM exits 0 without logging anything at error level (no kafkajs LeaveGroup noise)', { timeout: 120_000 }, async () => {
  const served = startRuntime({ KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, MODELS_DIR: join(repoRoot, 'model-packages'), MODEL_PIPELINE: 'iris-onnx', KAFKA_GROUP_ID: 'clean-stop' });
  await served.waitForLog((l) => l.msg === 'joined consumer group', 90_000);
  assert.equal(await served.stop(), 0);
  const lines = served.logs.map((l) => JSON.parse(l) as { level: number; msg: string });
  assert.ok(lines.some((l) => l.msg === 'stopped'), 'the stop was logged');
  assert.deepEqual(lines.filter((l) => l.level >= 50), []);
});

test('serve on a terminal logs readable lines, not JSON, and Ctrl-C stops it with exit 0', { skip, timeout: 120_000 }, async () => {
  const session = startInTerminal(['serve', '-b', broker.bootstrap, '-m', join(repoRoot, 'model-packages'), '--model', 'iris-onnx', '-g', 'pretty-logs']);
  await session.waitFor(/INFO.*joined consumer group/, 90_000);
  session.type('\u0003');
  assert.equal(await session.exited(60_000), 0, session.screen());
  const lines = session.screen().split('\n').filter((l) => l.trim() !== '');
  assert.ok(lines.some((l) => /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: stopped/.test(l)), session.screen());
  assert.deepEqual(lines.filter((l) => l.trimStart().startsWith('{')), [], 'no JSON lines on a terminal');
});

test('against a closed port, topics, serve, produce and consume each print one line and exit non-zero within 10 s', { skip, timeout: 120_000 }, async () => {
  const port = await closedPort();
  const runs: Array<[string, string[]]> = [
    ['topics', ['topics']],
    ['serve', ['serve', '-m', join(repoRoot, 'model-packages'), '--model', 'iris-onnx']],
    ['produce', ['produce', join(repoRoot, 'package.json'), '--input-type', 'jsonl']],
    ['consume', ['consume', '-f']],
  ];
  // One after another: four Node processes starting at once on a small machine would measure each other.
  for (const [name, args] of runs) {
    const started = Date.now();
    const session = startInTerminal([...args, '-b', `127.0.0.1:${port}`]);
    const code = await session.exited(15_000);
    const elapsed = Date.now() - started;
    const shown = session.screen().split('\n').filter((l) => l.trim() !== '');
    assert.notEqual(code, 0, `${name} exit code`);
    assert.ok(elapsed < 10_000, `${name} took ${elapsed} ms`);
    assert.equal(shown.length, 1, `${name} printed:\n${session.screen()}`);
    assert.match(shown[0]!, new RegExp(`^mlstream ${name}: cannot reach Kafka at 127\\.0\\.0\\.1:${port} \\(connection refused\\) — .* start it \\(bash init\\.sh\\) or point --bootstrap-server`));
  }
});

test('consume of a topic that does not exist says so in one line, with the command that creates the topics', { skip, timeout: 60_000 }, async () => {
  const session = startInTerminal(['consume', '-t', 'no-such-topic', '-b', broker.bootstrap]);
  assert.equal(await session.exited(), 1);
  assert.deepEqual(session.screen().split('\n').filter((l) => l.trim() !== ''), [
    `mlstream consume: topic no-such-topic does not exist on ${broker.bootstrap} — create the topics with \`mlstream topics create\`, or name another with --topic`,
  ]);
});

test('a busy HTTP port stops serve with one line naming the port and the flag to change it', { skip, timeout: 120_000 }, async () => {
  const busy: Server = createServer();
  await new Promise<void>((r) => busy.listen(0, r));
  const port = (busy.address() as { port: number }).port;
  try {
    const session = startInTerminal(['serve', '-b', broker.bootstrap, '-m', join(repoRoot, 'model-packages'), '--model', 'iris-onnx', '-p', String(port), '-l', 'silent', '-g', 'busy-port']);
    const code = await session.exited(60_000);
    assert.equal(code, 1);
    assert.deepEqual(session.screen().split('\n').filter((l) => l.trim() !== ''), [
      `mlstream serve: HTTP port ${port} is already in use — another mlstream (or another server) listens there — stop it, or choose another port with --http-port / HTTP_PORT`,
    ]);
  } finally {
    busy.close();
  }
});

test('--version prints the package version', { skip, timeout: 60_000 }, async () => {
  const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const session = startInTerminal([flag]);
    assert.equal(await session.exited(), 0);
    assert.equal(session.screen().trim(), version);
  }
});

test('produce - reads JSON lines from standard input, and consume --json reads them back from the beginning', { timeout: 120_000 }, async () => {
  const records = [{ id: 'p1', text: 'first' }, { id: 'p2', text: 'second' }, { id: 'p3', text: 'third' }];
  const produced = await runWithStdin(['produce', '-', '-t', 'piped', '-b', broker.bootstrap, '--no-progress'], records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  assert.equal(produced.code, 0, produced.stderr);
  assert.match(produced.stdout, /^produced 3 records to piped: 3 acknowledged, 0 failed, 0 skipped/);

  const read = await runWithStdin(['consume', '-t', 'piped', '--json', '-b', broker.bootstrap], '');
  assert.equal(read.code, 0, read.stderr);
  const values = read.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { key: string; value: { id: string; text: string } }));
  assert.deepEqual(values.map((v) => v.value).sort((a, b) => a.id.localeCompare(b.id)), records.map((r) => ({ ...r })));
  for (const v of values) assert.equal(v.key, v.value.id);
});

test('topics create makes the named topics on the local broker, which has no CreateTopics (as README\'s training section runs it)', { timeout: 120_000 }, async () => {
  const made = await runWithStdin(['topics', 'create', '-b', broker.bootstrap, '--input-topic', 'train-made', '--predictions-topic', 'predictions', '--errors-topic', 'errors'], '');
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /^created: train-made \(the broker has no CreateTopics: .*\); already there: predictions, errors\n$/);
  const listed = await runWithStdin(['topics', '-b', broker.bootstrap], '');
  assert.equal(listed.code, 0, listed.stderr);
  assert.ok(listed.stdout.split('\n').includes('train-made'), listed.stdout);
  const again = await runWithStdin(['topics', 'create', '-b', broker.bootstrap, '--input-topic', 'train-made'], '');
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, 'created: (none); already there: train-made, predictions, errors\n');
});

function runWithStdin(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}
