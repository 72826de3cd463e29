/**
 * The baselines of the benchmark, run as their own process like `mlstream serve`:
 *  - `plain`: consume → produce with kafkajs and nothing in between (the ceiling);
 *  - `validate`: the same, plus JSON decode and AJV validation of every record with the
 *    runtime's own decoder and compiled record validator.
 * The Kafka side copies what the runtime's runner does — the same configuration (read from
 * the same environment variables), fetch limits, slice size, idempotent acks=all producer,
 * one produce request and one commit per slice — so the difference to mlstream is the
 * engine and the model, not the client settings.
 *
 * `node --import tsx scripts/bench/pipe.ts plain|validate <package-dir>`
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EachBatchPayload, Message } from 'kafkajs';
import { decodeJson } from '../../runtime/codecs/index.js';
import { loadConfig } from '../../runtime/config.js';
import { HEADER_SOURCE } from '../../runtime/engine/messages.js';
import { createKafka } from '../../runtime/kafka/client.js';
import { FETCH_MAX_BYTES, FETCH_MAX_BYTES_PER_PARTITION, heartbeatIntervalOf } from '../../runtime/kafka/runner.js';
import { sliceEnd } from '../../runtime/kafka/slices.js';
import { createLogger } from '../../runtime/log.js';
import { compileRecordValidator } from '../../runtime/packages/validator.js';
import { parseInputSchema } from '../../runtime/pipeline/input-schema.js';
import { PLAIN_VALUE } from './pipe-output.js';

const [mode, packageDir] = process.argv.slice(2);
if ((mode !== 'plain' && mode !== 'validate') || !packageDir) {
  process.stderr.write('usage: pipe.ts plain|validate <package-dir>\n');
  process.exit(2);
}
const config = loadConfig({});
// Slices as the runner cuts them (runtime/kafka/slices.ts): by records and bytes.
const bounds = { maxRecords: config.sliceSize, maxBytes: config.sliceBytes };
const log = createLogger(config.logLevel);
const kafka = createKafka(config, log);
const fields = parseInputSchema((JSON.parse(readFileSync(join(packageDir, 'config.json'), 'utf8')) as { input_schema: Record<string, string> }).input_schema);
const validate = compileRecordValidator(fields);


function outputs(topic: string, partition: number, slice: EachBatchPayload['batch']['messages']): { predictions: Message[]; errors: Message[] } {
  const predictions: Message[] = [];
  const errors: Message[] = [];
  for (const m of slice) {
    const headers = { [HEADER_SOURCE]: `${topic}/${partition}/${m.offset}` };
    if (mode === 'plain') {
      predictions.push({ key: m.key, value: PLAIN_VALUE, headers });
      continue;
    }
    const decoded = m.value ? decodeJson(m.value) : { error: { code: 'DECODE_ERROR', message: 'empty message value' } };
    if ('error' in decoded) {
      errors.push({ key: m.key, value: JSON.stringify({ id: null, error: decoded.error }), headers });
      continue;
    }
    const { record } = decoded;
    if (validate(record) as boolean) {
      predictions.push({ key: m.key, value: JSON.stringify({ id: record.id, valid: true, model: 'pipe', version: '000000000000' }), headers });
    } else {
      errors.push({ key: m.key, value: JSON.stringify({ id: record.id ?? null, error: { code: 'SCHEMA_VIOLATION' } }), headers });
    }
  }
  return { predictions, errors };
}

const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 } });
const consumer = kafka.consumer({
  groupId: config.groupId,
  sessionTimeout: config.sessionTimeoutMs,
  heartbeatInterval: heartbeatIntervalOf(config.sessionTimeoutMs),
  maxWaitTimeInMs: config.maxWaitTimeInMs,
  maxBytes: FETCH_MAX_BYTES,
  maxBytesPerPartition: FETCH_MAX_BYTES_PER_PARTITION,
  allowAutoTopicCreation: false,
});
consumer.on(consumer.events.GROUP_JOIN, () => log.info('joined consumer group'));
await producer.connect();
await consumer.connect();
await consumer.subscribe({ topics: [config.inputTopic], fromBeginning: config.fromBeginning });
await consumer.run({
  autoCommit: false,
  eachBatchAutoResolve: false,
  partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
  eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale }) => {
    const { topic, partition } = batch;
    for (let start = 0, end = 0; start < batch.messages.length; start = end) {
      if (!isRunning() || isStale()) return;
      end = sliceEnd(batch.messages, start, bounds);
      const slice = batch.messages.slice(start, end);
      const { predictions, errors } = outputs(topic, partition, slice);
      const topicMessages = [
        { topic: config.predictionsTopic, messages: predictions },
        { topic: config.errorsTopic, messages: errors },
      ].filter((t) => t.messages.length > 0);
      await producer.sendBatch({ acks: -1, topicMessages });
      const last = slice[slice.length - 1]!.offset;
      await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: (BigInt(last) + 1n).toString() }] }] });
      resolveOffset(last);
      await heartbeat();
    }
  },
});
log.info('consuming');

const stop = async (): Promise<void> => {
  await consumer.disconnect();
  await producer.disconnect();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
