/**
 * pipe.ts's `plain` baseline (consume → produce, no model) written on the runtime's Kafka
 * client interface (runtime/kafka/port.ts), so the client KAFKA_CLIENT names — kafkajs or
 * librdkafka — is measured with the same loop: batches per partition, `concurrency`
 * partitions at once, slices of SLICE_SIZE, one acks=all produce call and one commit per
 * slice, the same output bytes as the other pipes.
 *
 * `KAFKA_CLIENT=librdkafka node --import tsx scripts/bench/pipe-client.ts`
 */
import { loadConfig } from '../../runtime/config.js';
import { HEADER_SOURCE } from '../../runtime/engine/messages.js';
import { createRunnerClient } from '../../runtime/kafka/client.js';
import { consumerSettings } from '../../runtime/kafka/runner.js';
import { sliceEnd } from '../../runtime/kafka/slices.js';
import { createLogger } from '../../runtime/log.js';
import { PLAIN_VALUE } from './pipe-output.js';

const config = loadConfig({});
// Slices as the runner cuts them (runtime/kafka/slices.ts): by records and bytes.
const bounds = { maxRecords: config.sliceSize, maxBytes: config.sliceBytes };
const log = createLogger(config.logLevel);
const client = await createRunnerClient(config, log);
const sender = client.sender();
const consumer = client.consumer(
  consumerSettings(config, () => true),
  {
    joined: () => log.info('joined consumer group'),
    crashed: (e, restarting) => {
      if (restarting) return;
      log.fatal({ reason: e.message }, 'consumer crashed');
      process.exit(1);
    },
  },
);
await sender.connect();
await consumer.connect();
await consumer.subscribe([config.inputTopic]);
await consumer.run(async (batch) => {
  const { topic, partition, messages } = batch;
  for (let start = 0, end = 0; start < messages.length; start = end) {
    if (!batch.isActive()) return;
    end = sliceEnd(messages, start, bounds);
    const slice = messages.slice(start, end);
    const out = slice.map((m) => ({ key: m.key, value: PLAIN_VALUE, headers: { [HEADER_SOURCE]: `${topic}/${partition}/${m.offset}` } }));
    await sender.send([{ topic: config.predictionsTopic, messages: out }]);
    await batch.commit((BigInt(slice[slice.length - 1]!.offset) + 1n).toString());
    await batch.heartbeat();
  }
});
log.info({ client: client.name }, 'consuming');

const stop = async (): Promise<void> => {
  await consumer.disconnect();
  await sender.disconnect();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
