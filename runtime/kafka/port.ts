/**
 * The Kafka client as the runner sees it: consume batches of one partition, produce a
 * request's records with acks from all in-sync replicas, commit a partition's offset,
 * pause/resume a partition, and hear of group joins and crashes. Two implementations:
 * kafkajs (kafkajs-client.ts, the default) and librdkafka through
 * @confluentinc/kafka-javascript (librdkafka-client.ts, KAFKA_CLIENT=librdkafka).
 * Slicing, delivery deadlines, ordering and at-least-once commits stay in the runner, the
 * same for both.
 */

export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

/** A consumed record. Offsets and timestamps are decimal strings (Kafka's are 64-bit). */
export interface KafkaRecord {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: string;
  readonly headers?: Record<string, HeaderValue>;
}

/** A record to produce. */
export interface OutputRecord {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, HeaderValue>;
}

export interface TopicRecords {
  topic: string;
  messages: OutputRecord[];
}

/** Records of one partition, in offset order, handed to the runner. */
export interface PartitionBatch {
  readonly topic: string;
  readonly partition: number;
  /** The partition's end offset as the fetch saw it ('-1' if unknown). */
  readonly highWatermark: string;
  readonly messages: readonly KafkaRecord[];
  /** False once no further slice of this batch should start: the consumer stops, or the partition was taken away. */
  isActive(): boolean;
  /** Keeps the group membership alive during a long slice (a no-op where the client heartbeats by itself). */
  heartbeat(): Promise<void>;
  /** Commits `nextOffset` (the offset after the last record done) for this partition; still works during a graceful stop. */
  commit(nextOffset: string): Promise<void>;
  /**
   * Sets where the client's next fetch of this partition starts (nothing is committed).
   * A client offering it fetches again as soon as `eachBatch` returns, so the runner can
   * finish a batch while the next one is fetched (RunnerOptions.fetchAhead); a client that
   * reads on from what was committed leaves it out.
   */
  release?(nextOffset: string): void;
  /**
   * Nothing reads the batch's records any more (keys, values, headers): the client may give
   * the memory behind them back, after which they read as empty. The runner calls it once the
   * batch's slices are committed or given up with nothing of theirs still in the engine or
   * being delivered, and not at all after a failure that may leave a delivery running.
   */
  dispose?(): void;
}

export interface ConsumerSettings {
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxWaitTimeInMs: number;
  readonly maxBytes: number;
  readonly maxBytesPerPartition: number;
  readonly fromBeginning: boolean;
  /** Partitions whose batches are handled at the same time (one batch per partition at a time). */
  readonly concurrency: number;
  /** Records the runner takes from a batch at once (a client that polls may size its rounds by it). */
  readonly sliceSize: number;
  /** Bytes of record values in a slice at most (with `sliceSize`, whichever comes first). */
  readonly sliceBytes?: number;
  /** Asked after a failure the client could restart from by itself: false makes it a crash. */
  restartOnFailure(): boolean;
}

export interface ConsumerEvents {
  joined(info: { readonly groupId: string; readonly memberId?: string; readonly assignment: Record<string, number[]> }): void;
  /** The consumer stopped on a failure; `restarting`: the client starts again by itself. */
  crashed(error: Error, restarting: boolean): void;
  /** The client found the group rebalancing and is about to rejoin. */
  rebalancing?(): void;
}

export interface BatchConsumer {
  connect(): Promise<void>;
  subscribe(topics: readonly string[]): Promise<void>;
  /** Starts handing batches to `eachBatch`; resolves once running. A rejection of `eachBatch` is a failure of the consumer. */
  run(eachBatch: (batch: PartitionBatch) => Promise<void>): Promise<void>;
  /** Stops fetching a partition; once resumed it is read again from `offset`. */
  pause(topic: string, partition: number, offset: string): void;
  resume(topic: string, partition: number): void;
  /** Finishes the batches in hand, leaves the group and closes. */
  disconnect(): Promise<void>;
}

export interface OutputSender {
  connect(): Promise<void>;
  /**
   * Produces the records with acks from all in-sync replicas, no retries of its own (the
   * runner resends whole requests). Errors carry `type` (Kafka's error name, e.g.
   * MESSAGE_TOO_LARGE) and `retriable`, as kafkajs's do.
   */
  send(request: readonly TopicRecords[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface TopicAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  listTopics(): Promise<string[]>;
  partitionCount(topic: string): Promise<number | undefined>;
  createTopics(topics: readonly string[], partitions: number): Promise<void>;
  /** Asks for the topics' metadata with auto-creation allowed (brokers without CreateTopics). */
  autoCreate(topics: readonly string[], groupId: string): Promise<void>;
}

export interface KafkaClient {
  /** 'kafkajs' or 'librdkafka', shown in logs and /status. */
  readonly name: string;
  consumer(settings: ConsumerSettings, events: ConsumerEvents): BatchConsumer;
  sender(): OutputSender;
  admin(): TopicAdmin;
}
