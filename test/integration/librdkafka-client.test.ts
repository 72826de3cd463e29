import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { startLocalBroker } from '../../scripts/broker/index.js';
import { librdkafkaClient } from '../../runtime/kafka/librdkafka-client.js';
import type { KafkaClient } from '../../runtime/kafka/port.js';
import { collectUntil } from '../helpers/kafka.js';
import { pauseResumeRestart } from '../helpers/runner-pause.js';

/*
 * The runner on the second Kafka client (librdkafka through @confluentinc/kafka-javascript,
 * built by scripts/kafka-native/build.sh), on the local broker: test/helpers/runner-pause.ts
 * (every record once, commits in order, pause and resume at the waiting record, a restart
 * resumes from the commits), then produce faults.
 */
const librdkafka = (bootstrap: string): Promise<KafkaClient> => librdkafkaClient({ brokers: [bootstrap], clientId: 'librdkafka-test', deliveryTimeoutMs: 30_000 }, pino({ level: 'silent' }));

test('librdkafka client: every record once, commits in order per partition, a paused partition resumes at the record that waited, a restart resumes from the commits', { timeout: 180_000 }, (t) => pauseResumeRestart(t, librdkafka));

test('librdkafka client: concurrent sends through injected produce errors and a dropped connection lose nothing', { timeout: 120_000 }, async (t) => {
  const broker = await startLocalBroker({ topics: [{ name: 'out', partitions: 3 }] });
  t.after(() => broker.stop());
  const client = await librdkafkaClient({ brokers: [broker.bootstrap], clientId: 'librdkafka-faults', deliveryTimeoutMs: 30_000 }, pino({ level: 'silent' }));
  const sender = client.sender();
  await sender.connect();
  t.after(() => sender.disconnect());
  // With librdkafka's idempotent producer this lost records on the local broker (which checks
  // sequence numbers only for transactional producers): a failed request followed by an
  // acknowledged later one was taken as written.
  const slices = 16;
  const perSlice = 250;
  for (let round = 0; round < slices; round += 4) {
    for (const fault of ['NOT_LEADER_FOR_PARTITION 2', 'REQUEST_TIMED_OUT 2', 'LEADER_NOT_AVAILABLE 1', 'TRANSPORT 1', 'NOT_ENOUGH_REPLICAS 1']) await broker.command(`errors Produce ${fault}`);
    await Promise.all(
      [0, 1, 2, 3].map((j) => {
        const first = (round + j) * perSlice;
        return sender.send([{ topic: 'out', messages: Array.from({ length: perSlice }, (_, i) => ({ key: `k${first + i}`, value: String(first + i) })) }]);
      }),
    );
  }
  const total = slices * perSlice;
  const seen = await collectUntil(broker.bootstrap, ['out'], (s) => s.length >= total, 30_000);
  const values = new Set(seen.map((o) => Number(o.value)));
  const missing = Array.from({ length: total }, (_, i) => i).filter((i) => !values.has(i));
  assert.deepEqual(missing, [], `${missing.length} of ${total} sent records are not in the topic`);
});
