import type { Consumer, Kafka, Producer } from 'kafkajs';
import { releaseBatch } from './fetch-memory.js';
import { KeyHashPartitioner } from './partitioner.js';
import type { BatchConsumer, ConsumerEvents, ConsumerSettings, KafkaClient, OutputSender, PartitionBatch, TopicAdmin } from './port.js';

/**
 * The runner's Kafka client on kafkajs (the default). `beforeConnect` runs once, before the
 * first of its consumer, producer or admin connects; a rejection is every connect's failure.
 */
export function kafkajsClient(kafka: Kafka, beforeConnect: () => Promise<void> = async () => undefined): KafkaClient {
  let checked: Promise<void> | undefined;
  const ready = (): Promise<void> => (checked ??= beforeConnect());
  return {
    name: 'kafkajs',
    consumer: (settings, events) => new KafkajsConsumer(kafka, settings, events, ready),
    sender: () => new KafkajsSender(kafka, ready),
    admin: () => kafkajsAdmin(kafka, ready),
  };
}

class KafkajsConsumer implements BatchConsumer {
  private readonly consumer: Consumer;

  constructor(
    kafka: Kafka,
    private readonly settings: ConsumerSettings,
    events: ConsumerEvents,
    private readonly beforeConnect: () => Promise<void>,
  ) {
    const s = settings;
    this.consumer = kafka.consumer({
      groupId: s.groupId,
      sessionTimeout: s.sessionTimeoutMs,
      heartbeatInterval: s.heartbeatIntervalMs,
      maxWaitTimeInMs: s.maxWaitTimeInMs,
      maxBytes: s.maxBytes,
      maxBytesPerPartition: s.maxBytesPerPartition,
      allowAutoTopicCreation: false,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 5000, restartOnFailure: async () => s.restartOnFailure() },
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => events.crashed(e.payload.error, e.payload.restart));
    this.consumer.on(this.consumer.events.REBALANCING, () => events.rebalancing?.());
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) =>
      events.joined({ groupId: e.payload.groupId, memberId: e.payload.memberId, assignment: e.payload.memberAssignment }),
    );
  }

  async connect(): Promise<void> {
    await this.beforeConnect();
    await this.consumer.connect();
  }

  subscribe(topics: readonly string[]): Promise<void> {
    return this.consumer.subscribe({ topics: [...topics], fromBeginning: this.settings.fromBeginning });
  }

  run(eachBatch: (batch: PartitionBatch) => Promise<void>): Promise<void> {
    return this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.settings.concurrency,
      eachBatch: ({ batch, heartbeat, isRunning, isStale, resolveOffset, commitOffsetsIfNecessary }) => {
        const { topic, partition } = batch;
        return eachBatch({
          topic,
          partition,
          highWatermark: batch.highWatermark,
          messages: batch.messages,
          isActive: () => isRunning() && !isStale(),
          heartbeat,
          // The batch's own commit function (unlike consumer.commitOffsets) still commits once
          // a stop has begun, so SIGTERM finishes the slice in hand and commits it.
          commit: async (nextOffset) => {
            await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: nextOffset }] }] });
          },
          // kafkajs fetches a partition from its resolved offset (eachBatchAutoResolve is off).
          // After a rejoin the resolved offsets are the new assignment's: a partition no longer
          // held has none, and kafkajs reads it from the committed offset if it comes back.
          release: (nextOffset) => {
            try {
              resolveOffset((BigInt(nextOffset) - 1n).toString());
            } catch {
              // not assigned here any more
            }
          },
          // The response the records were read into is given back once no batch reads it (fetch-memory.ts).
          dispose: () => releaseBatch(batch),
        });
      },
    });
  }

  /** kafkajs fetches a resumed partition from its last resolved offset, which the runner released to `offset`. */
  pause(topic: string, partition: number): void {
    this.consumer.pause([{ topic, partitions: [partition] }]);
  }

  resume(topic: string, partition: number): void {
    this.consumer.resume([{ topic, partitions: [partition] }]);
  }

  disconnect(): Promise<void> {
    return this.consumer.disconnect();
  }
}

/** kafkajs's producer with its own retries off: kafkajs 2.2.4 loses records retrying across a leader move (delivery.ts). */
class KafkajsSender implements OutputSender {
  private readonly producer: Producer;

  constructor(
    kafka: Kafka,
    private readonly beforeConnect: () => Promise<void>,
  ) {
    this.producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: KeyHashPartitioner, retry: { retries: 0 } });
  }

  async connect(): Promise<void> {
    await this.beforeConnect();
    await this.producer.connect();
  }

  async send(request: Parameters<OutputSender['send']>[0]): Promise<void> {
    await this.producer.sendBatch({ acks: -1, topicMessages: request.map(({ topic, messages }) => ({ topic, messages })) });
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}

function kafkajsAdmin(kafka: Kafka, beforeConnect: () => Promise<void>): TopicAdmin {
  const admin = kafka.admin();
  return {
    connect: async () => {
      await beforeConnect();
      await admin.connect();
    },
    disconnect: () => admin.disconnect(),
    listTopics: () => admin.listTopics(),
    partitionCount: async (topic) => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.length,
    createTopics: async (topics, partitions) => {
      await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: partitions })), waitForLeaders: true });
    },
    autoCreate: (topics, groupId) => askForTopics(kafka, topics, groupId),
  };
}

/**
 * Asks the broker for `topics` with auto-creation allowed, which makes them on a broker that
 * has no CreateTopics (librdkafka's mock cluster, the local broker): a consumer that
 * subscribes and leaves without joining a group sends that metadata request.
 */
export async function askForTopics(kafka: Kafka, topics: readonly string[], groupId: string): Promise<void> {
  const probe = kafka.consumer({ groupId: `${groupId}-topic-probe`, allowAutoTopicCreation: true });
  await probe.connect();
  try {
    await probe.subscribe({ topics: [...topics] });
  } finally {
    await probe.disconnect();
  }
}
