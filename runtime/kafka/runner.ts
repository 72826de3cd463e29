import type { Consumer, EachBatchPayload, Kafka, Message, TopicMessages } from 'kafkajs';
import type { Logger } from '../log.js';
import type { InputMessage, OutputMessage } from '../engine/messages.js';
import { DeliveryError, OutputProducer, describe, isRebalance, isRetriable, sleep, within } from './delivery.js';
import { DeliveryReport } from './delivery-report.js';

export interface BatchHandlerResult {
  readonly predictions: OutputMessage[];
  readonly errors: OutputMessage[];
}

/** What the Kafka side asks of the engine: turn a slice of input into outputs. */
export type BatchHandler<R extends BatchHandlerResult> = (messages: InputMessage[]) => Promise<R>;

export interface RunnerHooks<R extends BatchHandlerResult> {
  /**
   * After the slice's outputs are acknowledged, before its offsets are committed: a sink
   * (PostgreSQL) writes here, within the slice's delivery deadline (`deadlineAt`), retrying
   * on its own. A rejection gives up on the slice like a failed delivery (the runtime exits 1
   * with it uncommitted): re-running the batch would produce its outputs again.
   */
  beforeCommit?(result: R, inputs: readonly InputMessage[], deadlineAt: number, what: string): Promise<void>;
  /**
   * After the commit: metrics and the dashboard. Must not throw. `highWatermark` is the
   * partition's end offset as the fetch saw it, so lag costs no extra request.
   */
  afterCommit?(result: R, inputs: readonly InputMessage[], elapsedMs: number, highWatermark: string): void;
  /** The value of a small error record replacing an output Kafka refused as too large (delivery.ts). */
  refusedOutput?(original: Message, reason: string): string;
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
  /** How long producing a slice's outputs, and then committing its offsets, may each take before the runtime gives up. */
  readonly deliveryTimeoutMs: number;
  /** Produce requests stay under this many bytes (default 900000). */
  readonly maxRequestBytes?: number;
}

/**
 * What one fetch may hold in memory. The fetch loop does not fetch again until every batch
 * of the previous fetch is produced and committed, so these (per broker) and one slice of
 * outputs bound the records in hand: a slow produce side pauses fetching.
 */
export const FETCH_MAX_BYTES = 10 * 1024 * 1024;
export const FETCH_MAX_BYTES_PER_PARTITION = 1024 * 1024;

/** Consumer crashes kafkajs does not recover from that the runner answers with a new consumer, per window. */
const MAX_CONSUMER_CRASHES = 3;
const CONSUMER_CRASH_WINDOW_MS = 5 * 60_000;
const CONSUMER_RESTART_DELAY_MS = 1000;

/** Beyond the delivery timeout, what stopping may take: leaving the group and closing connections. */
const STOP_MARGIN_MS = 10_000;

/**
 * The consume → process → produce → commit loop. At-least-once: a slice's offsets are
 * committed only after its predictions and errors are acknowledged by all in-sync
 * replicas. It knows nothing of models or stages.
 */
export class StreamRunner<R extends BatchHandlerResult = BatchHandlerResult> {
  private consumer: Consumer | undefined;
  private readonly producer: OutputProducer;
  private crashed: ((e: Error) => void) | undefined;
  private stopping = false;
  private fatal: DeliveryError | undefined;
  private records = 0;
  private slices = 0;
  private crashTimes: number[] = [];
  /** Set when the group starts rebalancing, cleared on the next join: no new slice starts in between. */
  private rebalance: unknown;
  /** Counts of acknowledged and failed output messages, logged every 30 s while they change. */
  readonly delivery = new DeliveryReport();
  private stopDeliveryLog: (() => void) | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: RunnerOptions,
    private readonly handle: BatchHandler<R>,
    private readonly log: Logger,
    private readonly hooks: RunnerHooks<R> = {},
  ) {
    this.producer = new OutputProducer(kafka, log, { maxRequestBytes: options.maxRequestBytes ?? 900_000, errorsTopic: options.errorsTopic, refusedOutput: hooks.refusedOutput });
  }

  /** Heartbeats go out this often while a slice is in hand (kafkajs sends none by itself then). */
  get heartbeatIntervalMs(): number {
    return Math.max(100, Math.floor(this.options.sessionTimeoutMs / 10));
  }

  /** Connects and starts consuming; resolves once the consumer runs. */
  async start(onCrash: (e: Error) => void): Promise<void> {
    this.crashed = onCrash;
    await this.producer.connect();
    await this.startConsumer();
    this.log.info({ topic: this.options.inputTopic, groupId: this.options.groupId }, 'consuming');
    this.stopDeliveryLog = this.delivery.startLogging(this.log, 30_000);
  }

  private async startConsumer(): Promise<void> {
    const o = this.options;
    const consumer = this.kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: this.heartbeatIntervalMs,
      maxWaitTimeInMs: o.maxWaitTimeInMs,
      maxBytes: FETCH_MAX_BYTES,
      maxBytesPerPartition: FETCH_MAX_BYTES_PER_PARTITION,
      allowAutoTopicCreation: false,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 5000, restartOnFailure: async () => !this.fatal && !this.stopping },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (e) => {
      if (!e.payload.restart) this.afterCrash(this.fatal ?? e.payload.error);
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.rebalance = undefined;
      this.log.info({ groupId: e.payload.groupId, memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'joined consumer group');
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [o.inputTopic], fromBeginning: o.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /**
   * kafkajs restarts its consumer after retriable failures by itself; after the others
   * (a protocol error such as INVALID_REQUEST on a group sync) it gives up. Those get a
   * fresh consumer — it resumes from the committed offsets — a few times in a window;
   * beyond that, or after the runner gave up on a slice, the runtime stops (exit 1).
   */
  private afterCrash(error: Error): void {
    const now = Date.now();
    this.crashTimes = this.crashTimes.filter((t) => now - t < CONSUMER_CRASH_WINDOW_MS);
    this.crashTimes.push(now);
    if (this.fatal || this.stopping || this.crashTimes.length > MAX_CONSUMER_CRASHES) {
      this.crashed?.(error);
      return;
    }
    this.log.error({ reason: describe(error), crashesInWindow: this.crashTimes.length }, 'consumer crashed; starting a new one from the committed offsets');
    setTimeout(() => {
      if (this.stopping) return;
      this.startConsumer().catch((e: unknown) => this.afterCrash(e as Error));
    }, CONSUMER_RESTART_DELAY_MS);
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    if (this.fatal) throw this.fatal;
    const { batch, heartbeat, isRunning, isStale } = payload;
    const stopBeating = keepBeating(heartbeat, this.heartbeatIntervalMs, (e) => {
      if (isRebalance(e)) this.rebalance ??= e;
    });
    try {
      const all = batch.messages;
      for (let start = 0; start < all.length; start += this.options.sliceSize) {
        if (!isRunning() || isStale()) return;
        // A slice started now would likely be refused its commit and repeated by the next owner.
        if (this.rebalance) throw this.rebalance;
        await this.processSlice(payload, all.slice(start, start + this.options.sliceSize));
        await heartbeat();
      }
    } catch (e) {
      if (e instanceof DeliveryError && !this.fatal) {
        this.fatal = e;
        this.log.fatal({ reason: e.message }, 'giving up: nothing after the last committed offset is lost, a restart resumes there');
      }
      throw e;
    } finally {
      stopBeating();
    }
  }

  private async processSlice({ batch, resolveOffset, commitOffsetsIfNecessary }: EachBatchPayload, slice: EachBatchPayload['batch']['messages']): Promise<void> {
    const { topic, partition } = batch;
    const started = performance.now();
    const inputs: InputMessage[] = slice.map((m) => ({ topic, partition, offset: m.offset, key: m.key, value: m.value, timestamp: m.timestamp }));
    const first = slice[0]!.offset;
    const last = slice[slice.length - 1]!.offset;
    const what = `${topic}/${partition} offsets ${first}..${last}`;

    const result = await this.handle(inputs);
    const topicMessages: TopicMessages[] = [
      { topic: this.options.predictionsTopic, messages: result.predictions.map(toKafka) },
      { topic: this.options.errorsTopic, messages: result.errors.map(toKafka) },
    ].filter((t) => t.messages.length > 0);
    const outputs = result.predictions.length + result.errors.length;
    const deadlineAt = Date.now() + this.options.deliveryTimeoutMs;
    try {
      await this.producer.deliver(topicMessages, deadlineAt, () => this.stopping, what);
    } catch (e) {
      this.delivery.recordFailed(outputs);
      throw e;
    }
    this.delivery.recordAcknowledged(outputs);
    await this.hooks.beforeCommit?.(result, inputs, deadlineAt, what).catch((e: unknown) => {
      throw new DeliveryError(`the sink did not take ${what}: ${describe(e)}`);
    });
    const next = (BigInt(last) + 1n).toString();
    await this.commit(() => commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: next }] }] }), what);
    resolveOffset(last);
    this.records += slice.length;
    this.slices++;
    this.hooks.afterCommit?.(result, inputs, performance.now() - started, batch.highWatermark);
  }

  /**
   * Commits through the batch's own commit function, which (unlike consumer.commitOffsets)
   * still commits once a stop has begun: SIGTERM finishes the slice in hand *and* commits it.
   * A rebalance error is rethrown for kafkajs to rejoin; the slice's outputs are out already,
   * so the partition's next owner repeats them (duplicates, never loss).
   */
  private async commit(commitOnce: () => Promise<void>, what: string): Promise<void> {
    const deadlineAt = Date.now() + this.options.deliveryTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await commitOnce();
        return;
      } catch (e) {
        if (isRebalance(e)) {
          this.rebalance ??= e;
          this.log.warn({ slice: what, reason: describe(e) }, 'commit refused by a rebalance; the next owner of the partition repeats this slice');
          throw e;
        }
        if (!isRetriable(e)) throw new DeliveryError(`cannot commit ${what}: ${describe(e)}`);
        if (Date.now() + 200 * attempt >= deadlineAt) throw new DeliveryError(`cannot commit ${what} after ${attempt} attempts: ${describe(e)}`);
        this.log.warn({ attempt, slice: what, reason: describe(e) }, 'commit failed; retrying');
        await sleep(200 * attempt);
      }
    }
  }

  /**
   * Finishes the slice in hand, commits it, leaves the group and disconnects — within the
   * delivery timeout plus a margin, or rejects. Rejects too if the runner gave up on a slice.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.crashed = undefined;
    const bound = this.options.deliveryTimeoutMs + STOP_MARGIN_MS;
    await within(Promise.resolve(this.consumer?.disconnect()), bound, `the consumer did not stop within ${bound} ms`);
    await within(this.producer.disconnect(), STOP_MARGIN_MS, `the producer did not disconnect within ${STOP_MARGIN_MS} ms`);
    this.stopDeliveryLog?.();
    this.log.info({ records: this.records, slices: this.slices }, 'runner stopped');
    if (this.fatal) throw this.fatal;
  }
}

/**
 * Heartbeats while a slice is in the pipeline or being delivered, so a long slice does not
 * cost the group membership. The slice in hand still finishes; a failure is reported, and
 * the heartbeat after the slice rethrows a rebalance for kafkajs to rejoin. Stage work that
 * blocks the event loop cannot be interrupted; the slice size bounds it.
 */
function keepBeating(heartbeat: () => Promise<void>, everyMs: number, failed: (e: unknown) => void): () => void {
  const timer = setInterval(() => void heartbeat().catch(failed), everyMs);
  return () => clearInterval(timer);
}

function toKafka(m: OutputMessage): Message {
  return { key: m.key, value: m.value, headers: m.headers };
}
