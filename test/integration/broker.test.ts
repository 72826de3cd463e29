// Integration tests for the local mock broker (scripts/broker). Run with:
//   node --import tsx --test test/integration/broker.test.ts
// The first run builds librdkafka (~30-45 s); later runs take a few seconds.
import assert from 'node:assert/strict';
import net from 'node:net';
import { before, test } from 'node:test';
import { CompressionTypes, Kafka, logLevel, type Producer } from 'kafkajs';
import { ensureBrokerBuilt, startLocalBroker, type LocalBroker } from '../../scripts/broker/index.js';

function kafka(broker: LocalBroker, retries = 10): Kafka {
  return new Kafka({
    clientId: 'broker-test',
    brokers: broker.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries, initialRetryTime: 50, maxRetryTime: 1000 },
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function withBroker(opts: Parameters<typeof startLocalBroker>[0], fn: (b: LocalBroker) => Promise<void>): Promise<void> {
  const broker = await startLocalBroker(opts);
  try {
    await fn(broker);
  } finally {
    await broker.stop();
  }
}

async function connected<T extends { connect(): Promise<void>; disconnect(): Promise<void> }>(
  client: T,
  fn: (c: T) => Promise<void>,
): Promise<void> {
  await client.connect();
  try {
    await fn(client);
  } finally {
    await client.disconnect();
  }
}

function idempotentProducer(k: Kafka): Producer {
  return k.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
}

async function highWatermarks(k: Kafka, topic: string): Promise<Array<{ partition: number; low: string; high: string }>> {
  const admin = k.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.map(({ partition, low, high }) => ({ partition, low, high })).sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

before(async () => {
  await ensureBrokerBuilt();
}, { timeout: 300_000 });

test('admin client sees created topics and a valid controller', { timeout: 15_000 }, async () => {
  await withBroker({ brokers: 1, topics: [{ name: 'messages', partitions: 3 }, { name: 'predictions' }] }, async (b) => {
    assert.match(b.bootstrap, /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(b.brokers, [b.bootstrap]);
    assert.equal(await b.command('ping'), 'pong');

    await connected(kafka(b).admin(), async (admin) => {
      // listTopics and describeCluster go to the controller: with the mock's
      // default controller id they fail with KafkaJSBrokerNotFound.
      assert.deepEqual((await admin.listTopics()).sort(), ['messages', 'predictions']);
      const cluster = await admin.describeCluster();
      assert.equal(cluster.controller, 1);
      const meta = await admin.fetchTopicMetadata({ topics: ['messages'] });
      assert.equal(meta.topics[0]?.partitions.length, 3);

      // Topics created later through the command channel show up as well.
      assert.equal(await b.command('topic errors 2'), 'topic errors 2 1');
      assert.ok((await admin.listTopics()).includes('errors'));
    });
  });
});

test('idempotent producer round-trips 10k messages exactly once', { timeout: 30_000 }, async () => {
  const topic = 'roundtrip';
  const total = 10_000;
  await withBroker({ topics: [{ name: topic, partitions: 3 }] }, async (b) => {
    const k = kafka(b);
    await connected(idempotentProducer(k), async (producer) => {
      for (let i = 0; i < total; i += 1000) {
        const messages = Array.from({ length: 1000 }, (_, j) => ({ key: `k${i + j}`, value: `v${i + j}` }));
        // Compressed batches are stored verbatim by the mock and decoded by the consumer.
        const compression = (i / 1000) % 2 ? CompressionTypes.GZIP : CompressionTypes.None;
        await producer.send({ topic, acks: -1, compression, messages });
      }
    });

    const seen = new Map<string, string>();
    const offsetsByPartition = new Map<number, number[]>();
    const consumer = k.consumer({ groupId: 'roundtrip-group', sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 500 });
    await connected(consumer, async () => {
      await consumer.subscribe({ topic, fromBeginning: true });
      let done!: () => void;
      const finished = new Promise<void>((resolve) => (done = resolve));
      await consumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            const key = m.key?.toString() ?? '';
            assert.ok(!seen.has(key), `duplicate ${key}`);
            seen.set(key, m.value?.toString() ?? '');
            const list = offsetsByPartition.get(batch.partition) ?? [];
            list.push(Number(m.offset));
            offsetsByPartition.set(batch.partition, list);
          }
          if (seen.size >= total) done();
        },
      });
      await finished;
    });

    assert.equal(seen.size, total);
    for (const [key, value] of seen) assert.equal(value, `v${key.slice(1)}`);
    assert.equal(offsetsByPartition.size, 3, 'keys spread over all partitions');
    for (const [partition, offsets] of offsetsByPartition) {
      assert.deepEqual(offsets, offsets.map((_, i) => i), `partition ${partition} offsets are 0..n-1`);
    }
  });
});

test('producer retries through injected NOT_LEADER_FOR_PARTITION errors', { timeout: 15_000 }, async () => {
  const topic = 'faulty';
  await withBroker({ topics: [{ name: topic, partitions: 1 }] }, async (b) => {
    // The fault is real: a producer without retries sees it.
    await connected(kafka(b, 0).producer({ allowAutoTopicCreation: false }), async (producer) => {
      await b.command('errors Produce NOT_LEADER_FOR_PARTITION 1');
      await assert.rejects(producer.send({ topic, messages: [{ value: 'x' }] }), /leader/i);
    });

    // A retrying idempotent producer delivers everything exactly once.
    assert.match(await b.command('errors Produce NOT_LEADER_FOR_PARTITION 3'), /^pushed 3 x NOT_LEADER_FOR_PARTITION/);
    await connected(idempotentProducer(kafka(b)), async (producer) => {
      for (let i = 0; i < 10; i++) {
        await producer.send({ topic, acks: -1, messages: Array.from({ length: 10 }, (_, j) => ({ value: `m${i * 10 + j}` })) });
      }
    });
    // All three errors were consumed by the retries: a no-retry send now passes.
    await connected(kafka(b, 0).producer({ allowAutoTopicCreation: false }), async (producer) => {
      await producer.send({ topic, messages: [{ value: 'last' }] });
    });
    assert.deepEqual(await highWatermarks(kafka(b), topic), [{ partition: 0, low: '0', high: '101' }]);

    await assert.rejects(b.command('errors Produce NO_SUCH_ERROR 1'), /invalid error/);
    await assert.rejects(b.command('bogus'), /unknown command/);
  });
});

test('broker down/up and leader moves in a 3-broker cluster', { timeout: 20_000 }, async () => {
  const topic = 'ha';
  await withBroker({ brokers: 3, topics: [{ name: topic, partitions: 3 }] }, async (b) => {
    assert.equal(b.brokers.length, 3);
    const k = kafka(b, 20);
    await connected(k.admin(), async (admin) => {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      const leaders = meta.topics[0]?.partitions.map((p) => [p.partitionId, p.leader]).sort();
      // With replication 1 the mock spreads leaders: partition i on broker i+1.
      assert.deepEqual(leaders, [[0, 1], [1, 2], [2, 3]]);
    });

    await connected(k.producer({ allowAutoTopicCreation: false }), async (producer) => {
      await producer.send({ topic, messages: [0, 1, 2].map((partition) => ({ partition, value: 'before' })) });

      await b.command('down 2');
      // Partition 1's leader is down: the send keeps retrying until it is back.
      let delivered = false;
      const pendingSend = producer.send({ topic, messages: [{ partition: 1, value: 'while-down' }] }).then(() => (delivered = true));
      await producer.send({ topic, messages: [{ partition: 0, value: 'other-leader' }] });
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(delivered, false, 'no delivery while the leader is down');
      await b.command('up 2');
      await pendingSend;

      // Failover by hand: broker 3 goes down, its partition moves to broker 1.
      await b.command('down 3');
      await b.command('leader ha 2 1');
      await producer.send({ topic, messages: [{ partition: 2, value: 'moved' }] });
      await b.command('up 3');
    });

    const hw = await highWatermarks(k, topic);
    assert.deepEqual(hw.map((p) => p.high), ['2', '2', '2']);
  });
});

test('retention is patched: a partition keeps more than 5 MiB', { timeout: 20_000 }, async () => {
  const topic = 'big';
  await withBroker({ topics: [{ name: topic }] }, async (b) => {
    const k = kafka(b);
    const value = Buffer.alloc(16 * 1024, 'x');
    await connected(k.producer({ allowAutoTopicCreation: false }), async (producer) => {
      // 8 MiB in 64 batches: past both stock limits' reach (5 MiB).
      for (let i = 0; i < 64; i++) {
        await producer.send({ topic, acks: -1, messages: Array.from({ length: 8 }, () => ({ value })) });
      }
    });
    // The stock mock would have dropped the oldest batches (low > 0).
    assert.deepEqual(await highWatermarks(k, topic), [{ partition: 0, low: '0', high: '512' }]);
  });
});

test('fetch is patched: one fetch returns every stored batch that fits, as a broker does', { timeout: 20_000 }, async () => {
  const topic = 'batches';
  await withBroker({ topics: [{ name: topic }] }, async (b) => {
    const k = kafka(b);
    const value = Buffer.alloc(1024, 'y');
    await connected(k.producer({ allowAutoTopicCreation: false }), async (producer) => {
      // 40 produce requests: 40 stored message sets of 10 records each.
      for (let i = 0; i < 40; i++) {
        await producer.send({ topic, acks: -1, messages: Array.from({ length: 10 }, (_, j) => ({ key: `${i}-${j}`, value })) });
      }
    });
    // A consumer 400 records behind: the stock mock answers its first fetch with one set (10
    // records). The patched one sends all 40 (~420 kB, within the 1 MiB partition limit) ...
    const sizes = await firstFetchSizes(k, topic, 1024 * 1024);
    assert.equal(sizes[0], 400, `first fetch sizes: ${sizes.join(', ')}`);
    // ... and respects a smaller partition limit, sending whole sets only (the first always).
    const limited = await firstFetchSizes(k, topic, 50 * 1024);
    assert.ok(limited[0]! >= 10 && limited[0]! < 400 && limited[0]! % 10 === 0, `limited fetch sizes: ${limited.join(', ')}`);
    assert.equal(limited.reduce((a, n) => a + n, 0), 400);
  });
});

test('fetch waits for data: a record produced while a fetch waits is answered at once, not at the end of the wait', { timeout: 30_000 }, async () => {
  const topic = 'waiting';
  await withBroker({ topics: [{ name: topic }] }, async (b) => {
    const k = kafka(b);
    // A 4 s wait: the stock mock answered an empty fetch only after all of it, whatever arrived meanwhile.
    const consumer = k.consumer({ groupId: 'wait-group', maxWaitTimeInMs: 4000, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    const sentAt = new Map<string, number>();
    const lateness: number[] = [];
    let done: () => void = () => {};
    const all = new Promise<void>((resolve) => (done = resolve));
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
      void consumer.run({
        eachMessage: async ({ message }) => {
          lateness.push(Date.now() - sentAt.get(String(message.key))!);
          if (lateness.length === 5) done();
        },
      });
      await joined;
      await connected(k.producer({ allowAutoTopicCreation: false }), async (producer) => {
        // Each record lands while the consumer's fetch of an empty partition is waiting.
        for (let i = 0; i < 5; i++) {
          await sleep(700);
          sentAt.set(`r${i}`, Date.now());
          await producer.send({ topic, acks: -1, messages: [{ key: `r${i}`, value: 'v' }] });
        }
      });
      await all;
    } finally {
      await consumer.disconnect();
    }
    assert.ok(Math.max(...lateness) < 1000, `ms from produce to consume: ${lateness.join(', ')}`);
  });
});

/** Records per fetch (kafkajs hands one fetch's records for a partition to one eachBatch) until 400 are read. */
async function firstFetchSizes(k: Kafka, topic: string, maxBytesPerPartition: number): Promise<number[]> {
  const consumer = k.consumer({ groupId: `fetch-${maxBytesPerPartition}`, maxBytesPerPartition, maxWaitTimeInMs: 100, sessionTimeout: 6000, heartbeatInterval: 500 });
  const sizes: number[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachBatch: async ({ batch }) => {
          sizes.push(batch.messages.length);
          if (sizes.reduce((a, n) => a + n, 0) >= 400) resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return sizes;
}

test('fixed port for broker 1, and a clear error when it is taken', { timeout: 15_000 }, async () => {
  const port = await freePort();
  await withBroker({ brokers: 2, port }, async (b) => {
    assert.equal(b.brokers[0], `127.0.0.1:${port}`);
    // Down/up re-binds the same fixed port.
    await b.command('down 1');
    await b.command('up 1');
    await connected(kafka(b).admin(), async (admin) => {
      assert.equal((await admin.describeCluster()).brokers.length, 2);
    });
    await assert.rejects(startLocalBroker({ port }), /already in use/);
  });
});

test('stop() ends the broker process', { timeout: 10_000 }, async () => {
  const b = await startLocalBroker({ topics: [{ name: 't' }] });
  assert.doesNotThrow(() => process.kill(b.pid, 0));
  await b.stop();
  assert.throws(() => process.kill(b.pid, 0), { code: 'ESRCH' });
  await b.stop(); // idempotent
  await assert.rejects(b.command('ping'), /gone/);
});

test('the bench reads the broker\'s protocol versions and names the APIs a client shares no version of', { timeout: 15_000 }, async () => {
  const { brokerApiVersions, versionGaps } = await import('../../scripts/bench/protocol-versions.js');
  await withBroker({ topics: [{ name: 'versions', partitions: 1 }] }, async (b) => {
    const client = new Map<number, readonly [number, number]>([...[0, 1, 2, 3, 8, 9, 11, 12, 13, 14, 18].map((k) => [k, [0, 3]] as [number, [number, number]]), [10, [4, 6]]]);
    const before = await brokerApiVersions(b.bootstrap);
    assert.deepEqual(before.get(10), [0, 3], 'the mock offers FindCoordinator v0-3');
    assert.deepEqual(versionGaps(before, client), ['FindCoordinator (broker v0–3, client v4–6)']);
    // The mock can be told to offer other versions: the probe reads what it offers now.
    await b.command('apiversion 10 0 5');
    const after = await brokerApiVersions(b.bootstrap);
    assert.deepEqual(after.get(10), [0, 5]);
    assert.deepEqual(versionGaps(after, client), []);
    assert.deepEqual(versionGaps(after, new Map([...client].filter(([k]) => k !== 9))), ['OffsetFetch (not implemented by the client)']);
  });
});
