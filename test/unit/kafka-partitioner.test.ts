import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import fc from 'fast-check';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { KeyHashPartitioner, murmur2 } from '../../runtime/kafka/partitioner.js';

// kafkajs's own murmur2 (64-bit Long arithmetic over Buffer.from(key)) is the reference: the
// runtime's outputs must land on the partitions kafkajs's DefaultPartitioner, and the Java
// client's, would choose.
const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2') as (key: string | Buffer) => number;

test('murmur2 equals kafkajs\'s for any string (ASCII, any Unicode, lone surrogates) and any bytes', () => {
  fc.assert(fc.property(fc.string({ maxLength: 64 }), (s) => murmur2(s) === kafkajsMurmur2(s)), { numRuns: 5000 });
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (s) => murmur2(s) === kafkajsMurmur2(s)), { numRuns: 5000 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => murmur2(Buffer.from(b)) === kafkajsMurmur2(Buffer.from(b))), { numRuns: 5000 });
  // Java's Utils.murmur2 of a few keys, as Kafka's own tests list them.
  assert.equal(murmur2(Buffer.from('21')), -973932308);
  assert.equal(murmur2(Buffer.from('foobar')), -790332482);
  assert.equal(murmur2(Buffer.from('a-little-bit-long-string')), -985981536);
  assert.equal(murmur2(Buffer.from('a-little-bit-longer-string')), -1486304829);
  assert.equal(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')), -58897971);
  assert.equal(murmur2(Buffer.from([97, 98, 99])), 479470107);
});

const metadata = (n: number, down: number[] = []): PartitionMetadata[] =>
  Array.from({ length: n }, (_, p) => ({ partitionId: p, leader: down.includes(p) ? -1 : 1, partitionErrorCode: 0, replicas: [1], isr: [1], offlineReplicas: [] }));

test('KeyHashPartitioner picks kafkajs DefaultPartitioner\'s partition for keyed records and keeps a record\'s own partition', () => {
  const ours = KeyHashPartitioner();
  const theirs = Partitioners.DefaultPartitioner();
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b))), fc.integer({ min: 1, max: 64 }), (key, n) => {
      const args = { topic: 'predictions', partitionMetadata: metadata(n), message: { key, value: 'v' } };
      return ours(args) === theirs(args);
    }),
    { numRuns: 3000 },
  );
  assert.equal(ours({ topic: 't', partitionMetadata: metadata(4), message: { key: 'k', value: 'v', partition: 3 } }), 3);
});

test('KeyHashPartitioner without a key: round robin over the partitions that have a leader', () => {
  const ours = KeyHashPartitioner();
  const picks = Array.from({ length: 12 }, () => ours({ topic: 't', partitionMetadata: metadata(4, [1]), message: { key: null, value: 'v' } }));
  assert.ok(!picks.includes(1), `partition 1 has no leader: ${picks}`);
  for (let i = 3; i < picks.length; i++) assert.equal(picks[i], picks[i - 3], `a cycle of the 3 available partitions: ${picks}`);
  assert.deepEqual(new Set(picks), new Set([0, 2, 3]));
  const none = ours({ topic: 't', partitionMetadata: metadata(2, [0, 1]), message: { value: 'v' } });
  assert.ok(none === 0 || none === 1, 'with no leader anywhere, still one of the partitions');
});
