import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { startLocalBroker } from '../../scripts/broker/index.js';
import type { InputMessage, OutputMessage } from '../../runtime/engine/messages.js';
import { kafkajsClient } from '../../runtime/kafka/kafkajs-client.js';
import type { KafkaClient, TopicRecords } from '../../runtime/kafka/port.js';
import { StreamRunner, type BatchHandlerResult } from '../../runtime/kafka/runner.js';
import { collectUntil, produceAll, testKafka } from '../helpers/kafka.js';

/*
 * The runner on the local broker: the next slice of a partition goes to the engine while the
 * slice before it is produced and committed (so a worker computes while the main thread
 * waits for acknowledgements); with SLICES_IN_FLIGHT above 1 the next slice is also produced
 * before the one before it is committed. Either way offsets are committed strictly in order,
 * each only after its own outputs and every earlier slice's are acknowledged, and every
 * record is answered once; a slice that cannot be delivered leaves every later slice
 * uncommitted, even one already acknowledged.
 */

const TOTAL = 1000;
const SLICE = 100;

interface Harness {
  readonly events: string[];
  readonly runner: StreamRunner;
  readonly bootstrap: string;
  crashed(): Error | undefined;
}

/** A runner over 1,000 records in one partition (batches of 500: produceAll's requests), slices of 100, its sends and commits logged in `events`. */
async function harness(t: { after(fn: () => unknown): void }, slicesInFlight: number, failSendOf?: number): Promise<Harness> {
  const broker = await startLocalBroker({ topics: [{ name: 'in', partitions: 1 }, { name: 'out', partitions: 1 }, { name: 'errors', partitions: 1 }] });
  t.after(() => broker.stop());
  await produceAll(broker.bootstrap, 'in', Array.from({ length: TOTAL }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ v: i }) })));

  const events: string[] = [];
  const handle = async (messages: InputMessage[]): Promise<BatchHandlerResult> => {
    events.push(`handle ${messages[0]!.offset}`);
    // Engine work that takes a while, as on a worker thread: the event loop stays free meanwhile.
    await new Promise((r) => setTimeout(r, 20));
    const predictions: OutputMessage[] = messages.map((m, position) => ({ topic: 'out', position, key: m.key, value: String(m.value), headers: {} }));
    return { predictions, errors: [] };
  };
  const real = kafkajsClient(testKafka(broker.bootstrap));
  // The real client, its sends logged by the first output's offset (its value's v) when they start and when acknowledged.
  const client: KafkaClient = {
    name: real.name,
    consumer: (s, e) => real.consumer(s, e),
    admin: () => real.admin(),
    sender: () => {
      const sender = real.sender();
      return {
        connect: () => sender.connect(),
        disconnect: () => sender.disconnect(),
        send: async (request: readonly TopicRecords[]) => {
          const first = (JSON.parse(String(request[0]!.messages[0]!.value)) as { v: number }).v;
          events.push(`send ${first}`);
          if (first === failSendOf) {
            // Refused after a while, as a broker answers: the next slice is produced meanwhile.
            await new Promise((r) => setTimeout(r, 150));
            throw Object.assign(new Error('refused for the test'), { type: 'INVALID_RECORD', retriable: false });
          }
          await sender.send(request);
          events.push(`acked ${first}`);
        },
      };
    },
  };
  const runner = new StreamRunner(
    client,
    {
      groupId: 'overlap',
      inputTopic: 'in',
      errorsTopic: 'errors',
      fromBeginning: true,
      partitionsConsumedConcurrently: 1,
      sessionTimeoutMs: 6000,
      maxWaitTimeInMs: 50,
      sliceSize: SLICE,
      slicesInFlight,
      deliveryTimeoutMs: 30_000,
    },
    handle,
    pino({ level: 'silent' }),
    {
      // A sink that takes a while: the slice after this one is ready to be produced meanwhile.
      beforeCommit: async (_result, inputs) => {
        events.push(`sink ${inputs[0]!.offset}`);
        await new Promise((r) => setTimeout(r, 30));
        events.push(`commit ${inputs[0]!.offset}`);
      },
    },
  );
  let crashed: Error | undefined;
  await runner.start((e) => (crashed = e));
  return { events, runner, bootstrap: broker.bootstrap, crashed: () => crashed };
}

const at = (events: readonly string[], event: string): number => {
  const i = events.indexOf(event);
  assert.ok(i >= 0, `no "${event}" in ${events.join(', ')}`);
  return i;
};

/** Every commit in offset order, each after its own slice's and every earlier slice's acknowledgement. */
function assertCommitsInOrder(events: readonly string[], slices: number): void {
  const commits = events.filter((e) => e.startsWith('commit')).map((e) => Number(e.split(' ')[1]));
  assert.deepEqual(commits, Array.from({ length: slices }, (_, i) => i * SLICE), 'one commit per slice, in offset order');
  for (const first of commits) {
    for (let earlier = 0; earlier <= first; earlier += SLICE) assert.ok(at(events, `acked ${earlier}`) < at(events, `sink ${first}`), `slice ${earlier} acknowledged before ${first} is committed`);
  }
}

/** Slices k (not the first of a fetched batch) of which `relation(k)` holds. */
function countWithinBatches(relation: (first: number) => boolean): number {
  let n = 0;
  for (let first = SLICE; first < TOTAL; first += SLICE) if (first % 500 !== 0 && relation(first)) n++;
  return n;
}

async function answered(h: Harness): Promise<void> {
  const outputs = await collectUntil(h.bootstrap, ['out'], (seen) => seen.length >= TOTAL, 60_000);
  await h.runner.stop();
  assert.equal(h.crashed(), undefined);
  assert.deepEqual(outputs.map((o) => (o.value as { v: number }).v).sort((a, b) => a - b), Array.from({ length: TOTAL }, (_, i) => i), 'every record answered once');
}

test('one slice in flight: the next slice is in the engine before the previous one is committed, and produced only after it', { timeout: 120_000 }, async (t) => {
  const h = await harness(t, 1);
  await answered(h);
  const { events } = h;
  assertCommitsInOrder(events, TOTAL / SLICE);
  // Within a fetched batch (offsets 0..499, 500..999), slice k+1 reached the engine before slice k was committed.
  assert.equal(countWithinBatches((first) => at(events, `handle ${first}`) < at(events, `commit ${first - SLICE}`)), 8, events.join(', '));
  assert.equal(countWithinBatches((first) => at(events, `send ${first}`) < at(events, `commit ${first - SLICE}`)), 0, events.join(', '));
});

test('two slices in flight: the next slice is produced while the previous one is committed; commits stay in order', { timeout: 120_000 }, async (t) => {
  const h = await harness(t, 2);
  await answered(h);
  const { events } = h;
  assertCommitsInOrder(events, TOTAL / SLICE);
  // The 30 ms sink holds each commit back while the next slice (20 ms in the engine) is ready.
  assert.equal(countWithinBatches((first) => at(events, `send ${first}`) < at(events, `commit ${first - SLICE}`)), 8, events.join(', '));
  // Never more than two: slice k+2 is produced only after slice k is committed.
  assert.equal(countWithinBatches((first) => first >= 2 * SLICE && at(events, `send ${first}`) < at(events, `commit ${first - 2 * SLICE}`)), 0, events.join(', '));
});

test('two slices in flight: a slice Kafka refuses leaves the slice after it uncommitted, though acknowledged', { timeout: 120_000 }, async (t) => {
  const h = await harness(t, 2, 200);
  const deadline = Date.now() + 30_000;
  while (!h.crashed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.match(String(h.crashed()), /Kafka refused the outputs of in\/0 offsets 200\.\.299/, h.events.join(', '));
  await assert.rejects(h.runner.stop(), /Kafka refused/);
  const { events } = h;
  assert.deepEqual(events.filter((e) => e.startsWith('commit')), ['commit 0', 'commit 100']);
  // Slice 300 was produced beside the refused one (it is acknowledged) and is not committed.
  at(events, 'acked 300');
  assert.ok(!events.includes('send 400'), events.join(', '));
  const admin = testKafka(h.bootstrap).admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId: 'overlap', topics: ['in'] });
    assert.deepEqual(offsets!.partitions.map((p) => p.offset), ['200']);
  } finally {
    await admin.disconnect();
  }
});
