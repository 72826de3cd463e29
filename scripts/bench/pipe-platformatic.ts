/**
 * The second Kafka client, measured the way the first is: pipe.ts's `plain` baseline
 * (consume → produce, no model) written with @platformatic/kafka, a pure-JavaScript client,
 * on the same broker. Same settings as the kafkajs pipe, read from the same environment
 * variables: fetch limits, slice size, an idempotent acks=all producer, one produce request
 * and one commit per slice of a partition, the same output bytes per record. Whether this
 * client works against the local broker at all is part of what the row reports.
 *
 * `node --import tsx scripts/bench/pipe-platformatic.ts`
 */
import { Consumer, Producer, type Message } from '@platformatic/kafka';
import { loadConfig } from '../../runtime/config.js';
import { HEADER_SOURCE } from '../../runtime/engine/messages.js';
import { FETCH_MAX_BYTES, FETCH_MAX_BYTES_PER_PARTITION, heartbeatIntervalOf } from '../../runtime/kafka/runner.js';
import { PLAIN_VALUE } from './pipe-output.js';

const config = loadConfig({});
// Slices as the runner cuts them (runtime/kafka/slices.ts): by records and bytes.
const { sliceSize, sliceBytes } = config;
const value = Buffer.from(PLAIN_VALUE);
const sourceHeader = Buffer.from(HEADER_SOURCE);
/** Slices sent but not yet committed before the stream is paused: bounds memory as the kafkajs pipe's batch loop does. */
const MAX_IN_FLIGHT = 4;

const producer = new Producer({ clientId: `${config.clientId}-pipe`, bootstrapBrokers: config.brokers, idempotent: true, acks: -1 });
const consumer = new Consumer({
  clientId: `${config.clientId}-pipe`,
  groupId: config.groupId,
  bootstrapBrokers: config.brokers,
  sessionTimeout: config.sessionTimeoutMs,
  heartbeatInterval: heartbeatIntervalOf(config.sessionTimeoutMs),
  maxWaitTime: config.maxWaitTimeInMs,
  maxBytes: FETCH_MAX_BYTES,
  maxBytesPerPartition: FETCH_MAX_BYTES_PER_PARTITION,
});
/** One line saying why, last, so the benchmark's failed row can quote it. */
function fail(e: unknown): never {
  const err = e as Error & { errors?: Error[] };
  const causes = err.errors?.map((c) => c.message).join('; ');
  process.stderr.write(`${err.stack ?? String(e)}\n`);
  process.stderr.write(`@platformatic/kafka pipe failed: ${err.message}${causes ? ` (${causes})` : ''}\n`);
  process.exit(1);
}

const stream = await consumer
  .consume({
    topics: [config.inputTopic],
    mode: 'committed',
    fallbackMode: config.fromBeginning ? 'earliest' : 'latest',
    autocommit: false,
  })
  .catch(fail);

const pending = new Map<number, Message[]>();
let sending = Promise.resolve();
let inFlight = 0;
let flushQueued = false;

/** One slice: one produce request, then the commit of its last offset, in arrival order. */
function send(slice: Message[]): void {
  inFlight++;
  if (inFlight >= MAX_IN_FLIGHT) stream.pause();
  sending = sending.then(async () => {
    const messages = slice.map((m) => ({
      topic: config.predictionsTopic,
      key: m.key,
      value,
      headers: new Map([[sourceHeader, Buffer.from(`${m.topic}/${m.partition}/${m.offset}`)]]),
    }));
    await producer.send({ messages, acks: -1 });
    await slice[slice.length - 1]!.commit();
    inFlight--;
    if (inFlight < MAX_IN_FLIGHT) stream.resume();
  });
  sending.catch(fail);
}

function flushAll(): void {
  flushQueued = false;
  for (const [partition, slice] of pending) {
    if (slice.length) send(slice);
    pending.delete(partition);
  }
}

// The stream hands over one record at a time; what arrived in one turn of the event loop
// (one fetch response) is a batch, cut into slices of sliceSize records or sliceBytes bytes per partition.
const pendingBytes = new Map<number, number>();
stream.on('data', (m: Message) => {
  const size = (m.value as Buffer | null | undefined)?.length ?? 0;
  let slice = pending.get(m.partition);
  if (slice && slice.length > 0 && (pendingBytes.get(m.partition) ?? 0) + size > sliceBytes) {
    send(slice);
    slice = undefined;
  }
  if (!slice) {
    pending.set(m.partition, (slice = []));
    pendingBytes.set(m.partition, 0);
  }
  slice.push(m);
  pendingBytes.set(m.partition, (pendingBytes.get(m.partition) ?? 0) + size);
  if (slice.length >= sliceSize) {
    send(slice);
    pending.delete(m.partition);
  } else if (!flushQueued) {
    flushQueued = true;
    setImmediate(flushAll);
  }
});

const stop = async (): Promise<void> => {
  await stream.close();
  await sending;
  await consumer.close();
  await producer.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
