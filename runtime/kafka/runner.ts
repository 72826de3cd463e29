import type { Consumer, EachBatchPayload, Kafka, Message, Producer } from 'kafkajs';
import type { Logger } from '../log.js';
import type { InputMessage, OutputMessage } from '../engine/messages.js';

export interface BatchHandlerResult {
  readonly predictions: OutputMessage[];
  readonly errors: OutputMessage[];
}

/** What the Kafka side asks of the engine: turn a slice of input into outputs. */
export type BatchHandler<R extends BatchHandlerResult> = (messages: InputMessage[]) => Promise<R>;

export interface RunnerHooks<R extends BatchHandlerResult> {
  /**
   * After the slice's outputs are acknowledged, before its offsets are committed: a sink
   * (PostgreSQL) writes here, so a failure leaves the slice uncommitted and it is retried.
   */
  beforeCommit?(result: R, inputs: readonly InputMessage[]): Promise<void>;
  /** After the commit: metrics and the dashboard. Must not throw. */
  afterCommit?(result: R, inputs: readonly InputMessage[], elapsedMs: number): void;
}

export interface RunnerOptions {
  readonly groupId: string;
  readonly inputTopic: string;
  readonly predictionsTopic: string;
  readonly errorsTopic: string;
  readonly fromBeginning: boolean;
  readonly partitionsConsumedConcurrently: number;
  readonly sessionTimeoutMs: number;
  readonly maxWaitTimeInMs: number;
  /** Largest slice handed to the engine at once; heartbeats are sent between slices. */
  readonly sliceSize: number;
}

/**
 * The consume → process → produce → commit loop. At-least-once: a slice's offsets are
 * committed only after its predictions and errors are acknowledged by all in-sync
 * replicas. It knows nothing of models or stages.
 */
export class StreamRunner<R extends BatchHandlerResult = BatchHandlerResult> {
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private crashed: ((e: Error) => void) | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: RunnerOptions,
    private readonly handle: BatchHandler<R>,
    private readonly log: Logger,
    private readonly hooks: RunnerHooks<R> = {},
  ) {}

  /** Connects and starts consuming; resolves once the consumer runs. */
  async start(onCrash: (e: Error) => void): Promise<void> {
    this.crashed = onCrash;
    const o = this.options;
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    this.consumer = this.kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: Math.max(100, Math.floor(o.sessionTimeoutMs / 10)),
      maxWaitTimeInMs: o.maxWaitTimeInMs,
      allowAutoTopicCreation: false,
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      if (!e.payload.restart) this.crashed?.(e.payload.error);
    });
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [o.inputTopic], fromBeginning: o.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.log.info({ topic: o.inputTopic, groupId: o.groupId }, 'consuming');
  }

  private async eachBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const all = batch.messages;
    for (let start = 0; start < all.length; start += this.options.sliceSize) {
      if (!isRunning() || isStale()) return;
      const started = performance.now();
      const slice = all.slice(start, start + this.options.sliceSize);
      const inputs: InputMessage[] = slice.map((m) => ({
        topic,
        partition,
        offset: m.offset,
        key: m.key,
        value: m.value,
        timestamp: m.timestamp,
      }));
      const result = await this.handle(inputs);
      const { predictions, errors } = result;
      await heartbeat();
      await this.producer!.sendBatch({
        acks: -1,
        topicMessages: [
          { topic: this.options.predictionsTopic, messages: predictions.map(toKafka) },
          { topic: this.options.errorsTopic, messages: errors.map(toKafka) },
        ].filter((t) => t.messages.length > 0),
      });
      await this.hooks.beforeCommit?.(result, inputs);
      const last = slice[slice.length - 1]!.offset;
      await this.consumer!.commitOffsets([{ topic, partition, offset: (BigInt(last) + 1n).toString() }]);
      resolveOffset(last);
      this.hooks.afterCommit?.(result, inputs, performance.now() - started);
      await heartbeat();
    }
  }

  /** Finishes the batch in hand, commits it, and disconnects. */
  async stop(): Promise<void> {
    this.crashed = undefined;
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
  }
}

function toKafka(m: OutputMessage): Message {
  return { key: m.key, value: m.value, headers: m.headers };
}
