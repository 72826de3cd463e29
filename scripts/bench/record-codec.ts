/**
 * `npx tsx scripts/bench/record-codec.ts`: CPU per record of kafkajs's record encoder against
 * mlstream's (runtime/kafka/kafkajs-records.ts) for an mlstream output (three headers) and a
 * bare record, of kafkajs's record decoder, of kafkajs's grouping of a produce request's
 * records by partition with its DefaultPartitioner against mlstream's (runtime/kafka/partitioner.ts),
 * and of a slice's whole produce request, kafkajs's (with mlstream's record encoder) against
 * mlstream's (runtime/kafka/kafkajs-produce.ts), grouping included, in this process. The
 * figures quoted in docs/performance.md ("kafkajs's record encoder", "kafkajs's partitioner",
 * "kafkajs's produce request") come from this command.
 */
import { createRequire } from 'node:module';
import { Partitioners, type ICustomPartitioner, type Message, type PartitionMetadata } from 'kafkajs';
import { encodeProduceRequest, groupMessagesPerPartition as linearGrouping, type LongClass, type ProduceArgs } from '../../runtime/kafka/kafkajs-produce.js';
import { encodeRecord, installRecordEncoder, type RecordInput } from '../../runtime/kafka/kafkajs-records.js';
import { KeyHashPartitioner } from '../../runtime/kafka/partitioner.js';

const require = createRequire(import.meta.url);
const kafkajsEncode = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (r: RecordInput) => { buffer: Buffer };
const kafkajsDecode = require('kafkajs/src/protocol/recordBatch/record/v0/decoder.js') as (d: unknown, context: object) => unknown;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => unknown;
type Group = (args: { topic: string; partitionMetadata: PartitionMetadata[]; messages: Message[]; partitioner: ReturnType<ICustomPartitioner> }) => unknown;
const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition.js') as Group;

const key = Buffer.from('3f2a-81c7');
const value = JSON.stringify({ id: '3f2a-81c7', prediction: 1, label: 'spam', probability: [0.08, 0.92], model: 'spam-text', version: '0123456789ab' });
const headers = { 'mlstream-source': 'messages/3/1234567', 'mlstream-model': 'spam-text@0123456789ab', 'mlstream-source-timestamp': '1733300000000' };
const ROUNDS = 200_000;

function usPerCall(run: (i: number) => unknown): number {
  for (let i = 0; i < ROUNDS / 10; i++) run(i);
  const started = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) run(i);
  return Number(process.hrtime.bigint() - started) / ROUNDS / 1000;
}

const rows: Array<[string, number]> = [];
for (const [what, h] of [
  ['output, 3 headers', headers],
  ['record, no headers', {}],
] as const) {
  rows.push([`kafkajs encoder, ${what}`, usPerCall((i) => kafkajsEncode({ offsetDelta: i % 250, timestampDelta: 0, key, value, headers: h }).buffer)]);
  rows.push([`mlstream encoder, ${what}`, usPerCall((i) => encodeRecord({ offsetDelta: i % 250, timestampDelta: 0, key, value, headers: h }))]);
}
const encoded = kafkajsEncode({ offsetDelta: 7, timestampDelta: 3, key, value, headers }).buffer;
let lengthBytes = 1;
while (encoded[lengthBytes - 1]! >= 0x80) lengthBytes++;
const body = encoded.subarray(lengthBytes);
const context = { firstOffset: '1234560', firstTimestamp: '1733300000000', maxTimestamp: '1733300000100', magicByte: 2, isControlBatch: false, timestampType: 0 };
rows.push(['kafkajs decoder, output, 3 headers', usPerCall(() => kafkajsDecode(new Decoder(body), context))]);

// A slice's 250 outputs, keyed by their input's id, grouped for a 4-partition topic the way
// kafkajs's producer does for every produce request; per record.
const partitionMetadata = [0, 1, 2, 3].map((p) => ({ partitionId: p, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));
const slice: Message[] = Array.from({ length: 250 }, (_, i) => ({ key: `r${100_000 + i}`, value, headers }));
for (const [what, make] of [
  ['kafkajs partitioner, grouping 250 records', Partitioners.DefaultPartitioner],
  ['mlstream partitioner, grouping 250 records', KeyHashPartitioner],
] as const) {
  const partitioner = make();
  rows.push([what, usPerCall((i) => i % 250 === 0 && groupMessagesPerPartition({ topic: 'predictions', partitionMetadata, messages: slice, partitioner }))]);
}

// The same slice's outputs as one produce request to one partition: kafkajs's produce request v3
// (which v4–v7 reuse) as the runtime ran it before, with mlstream's record encoder in place,
// against the request in one buffer; each after its grouping (kafkajs's, mlstream's), per record.
installRecordEncoder();
const requestV3 = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (a: ProduceArgs) => { encode(): Promise<unknown> };
const Long = require('kafkajs/src/utils/long.js') as LongClass;
const oneP = [partitionMetadata[0]!];
const partitioner = KeyHashPartitioner();
async function usPerRecordAsync(run: () => Promise<unknown> | unknown): Promise<number> {
  const requests = ROUNDS / 250;
  for (let i = 0; i < requests / 10; i++) await run();
  const started = process.hrtime.bigint();
  for (let i = 0; i < requests; i++) await run();
  return Number(process.hrtime.bigint() - started) / requests / 250 / 1000;
}
const request = (grouped: Record<string, Message[]>): ProduceArgs => ({ acks: -1, timeout: 30000, topicData: [{ topic: 'predictions', partitions: [{ partition: 0, messages: grouped['0']! }] }] });
rows.push([
  'kafkajs produce request, 250 records',
  await usPerRecordAsync(() => requestV3(request(groupMessagesPerPartition({ topic: 'predictions', partitionMetadata: oneP, messages: slice, partitioner }) as Record<string, Message[]>)).encode()),
]);
rows.push([
  'mlstream produce request, 250 records',
  await usPerRecordAsync(() => encodeProduceRequest(request(linearGrouping({ topic: 'predictions', partitionMetadata: oneP, messages: slice, partitioner: partitioner as never }) as Record<string, Message[]>), Date.now(), Long)),
]);

for (const [what, us] of rows) process.stdout.write(`${what.padEnd(44)} ${us.toFixed(2)} µs/record\n`);
