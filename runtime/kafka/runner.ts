import type { Logger } from '../log.js';
import type { InputMessage, OutputMessage } from '../engine/messages.js';
import { DeliveryError, OutputProducer, describe, isRebalance, isRetriable, sleep, within } from './delivery.js';
import { DeliveryReport } from './delivery-report.js';
import { Turns } from './turns.js';
import { sliceEnd, type SliceBounds } from './slices.js';
import type { BatchConsumer, ConsumerSettings, KafkaClient, KafkaRecord, OutputRecord, PartitionBatch, TopicRecords } from './port.js';

export interface BatchHandlerResult {
  readonly predictions: OutputMessage[];
  readonly errors: OutputMessage[];
  readonly shadow?: OutputMessage[];
  /** How many of the slice's messages, from its start, have outputs; the partition pauses at the first one without. */
  readonly processed?: number;
  /** Why the rest of the slice waits: shown in logs and /status until the partition resumes. */
  readonly wait?: WaitReason;
}

export interface WaitReason {
  readonly reason: string;
  readonly model: string;
  /** The model store's generation the slice was routed with: a newer one may already serve the record. */
  readonly generation?: number;
}

/** A partition whose next record waits for a package: paused, nothing after `offset` committed. */
export interface WaitingPartition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly reason: string;
  readonly model: string;
  readonly generation?: number;
  readonly since: Date;
}

/** What the Kafka side asks of the engine: turn a slice of input into outputs. */
export type BatchHandler<R extends BatchHandlerResult> = (messages: InputMessage[]) => Promise<R>;

/**
 * Hooks may read a slice's inputs and outputs while they are called, but must not keep them
 * (or any key, value or header of theirs) past that: on kafkajs the records are views of a
 * fetch response whose memory is read into again once the batch is done (fetch-memory.ts).
 * Copy what must outlive the call, as the metrics and the dashboard do.
 */
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
  /** A partition paused because its next record waits for a package. Must not throw. */
  onWait?(waiting: WaitingPartition): void;
  /** The value of a small error record replacing an output Kafka refused as too large (delivery.ts). */
  refusedOutput?(original: OutputRecord, reason: string): string;
}

export interface RunnerOptions {
  readonly groupId: string;
  /** The default input topic; packages may bind more (see `setTopics`). */
  readonly inputTopic: string;
  /** Where the small error record for an output Kafka refused as too large goes. */
  readonly errorsTopic: string;
  readonly fromBeginning: boolean;
  readonly partitionsConsumedConcurrently: number;
  readonly sessionTimeoutMs: number;
  readonly maxWaitTimeInMs: number;
  /** Most records in a slice handed to the engine at once; heartbeats are sent between slices. */
  readonly sliceSize: number;
  /** Most bytes of record values in a slice (a bigger record is a slice of its own). Default: no bound but `sliceSize`. */
  readonly sliceBytes?: number;
  /**
   * Per partition, slices whose outputs may be in production before the oldest of them is
   * committed (commits stay in order). 1: each slice is committed before the next one's
   * outputs are produced. Default 1.
   */
  readonly slicesInFlight?: number;
  /** How long producing a slice's outputs, and then committing its offsets, may each take before the runtime gives up. */
  readonly deliveryTimeoutMs: number;
  /** Produce requests stay under this many bytes (default 900000). */
  readonly maxRequestBytes?: number;
  /**
   * Fetch a partition's next batch while its current one is still worked on (clients that
   * offer `release`: kafkajs). Default true.
   */
  readonly fetchAhead?: boolean;
}

/**
 * What one fetch may hold in memory. The fetch loop does not fetch again until every batch
 * of the previous fetch is handed over, and with fetch-ahead a partition's batch is handed
 * over only once the batch before it is done, so at most two fetches per partition are in
 * hand (one without fetch-ahead): a slow produce side pauses fetching. With fetch-ahead a
 * partition fetches half as much at once, so the bytes in hand stay those of one 1 MiB fetch.
 */
export const FETCH_MAX_BYTES = 10 * 1024 * 1024;
export const FETCH_MAX_BYTES_PER_PARTITION = 1024 * 1024;
export const FETCH_AHEAD_MAX_BYTES_PER_PARTITION = FETCH_MAX_BYTES_PER_PARTITION / 2;

/** Heartbeats go out this often while a slice is in hand: a tenth of the session timeout. */
export const heartbeatIntervalOf = (sessionTimeoutMs: number): number => Math.max(100, Math.floor(sessionTimeoutMs / 10));

/** What the runner asks of a consumer, from its options: fetch limits, concurrency, group timings. */
export function consumerSettings(o: RunnerOptions, restartOnFailure: () => boolean): ConsumerSettings {
  return {
    groupId: o.groupId,
    sessionTimeoutMs: o.sessionTimeoutMs,
    heartbeatIntervalMs: heartbeatIntervalOf(o.sessionTimeoutMs),
    maxWaitTimeInMs: o.maxWaitTimeInMs,
    maxBytes: FETCH_MAX_BYTES,
    maxBytesPerPartition: o.fetchAhead === false ? FETCH_MAX_BYTES_PER_PARTITION : FETCH_AHEAD_MAX_BYTES_PER_PARTITION,
    fromBeginning: o.fromBeginning,
    concurrency: o.partitionsConsumedConcurrently,
    sliceSize: o.sliceSize,
    sliceBytes: o.sliceBytes,
    restartOnFailure,
  };
}

/** Consumer crashes the client does not recover from that the runner answers with a new consumer, per window. */
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
  private consumer: BatchConsumer | undefined;
  private readonly producer: OutputProducer;
  private crashed: ((e: Error) => void) | undefined;
  private stopping = false;
  private fatal: DeliveryError | undefined;
  private records = 0;
  private slices = 0;
  private crashTimes: number[] = [];
  /** Set when the group starts rebalancing, cleared on the next join: no new slice starts in between. */
  private rebalance: unknown;
  /** Per partition, with fetch-ahead: its batch still worked on after `eachBatch` returned. */
  private readonly lanes = new Map<string, Lane>();
  /**
   * Bumped when the group starts rebalancing, on every join, on a consumer crash and on a
   * subscription change: a lane started before starts no further slice.
   */
  private epoch = 0;
  /** Bumped on every join and consumer crash: a lane started before commits nothing more. */
  private generation = 0;
  /** Partition → the offset after the last slice this runner committed there. */
  private readonly committedNext = new Map<string, bigint>();
  /** The fatal failure of a lane has been reported (it is reported once). */
  private fatalReported = false;
  /** Lanes run at most partitionsConsumedConcurrently at once (made with the first lane). */
  private laneTurns: Turns | undefined;
  /** Input topics the consumer is subscribed to: the default one and those packages are bound to. */
  private topics: string[];
  /** Topics known to exist (inputs subscribed to, outputs produced to). */
  private readonly existingTopics = new Set<string>();
  private readonly waiting = new Map<string, WaitingPartition>();
  private running = false;
  private lastCommitAt = Date.now();
  /** Partition → when the slice it has in hand started. */
  private readonly inFlight = new Map<string, number>();
  /** Serialises consumer restarts for topic changes. */
  private restarting: Promise<void> = Promise.resolve();
  /** Counts of acknowledged and failed output messages, logged every 30 s while they change. */
  readonly delivery = new DeliveryReport();
  private stopDeliveryLog: (() => void) | undefined;

  constructor(
    private readonly client: KafkaClient,
    private readonly options: RunnerOptions,
    private readonly handle: BatchHandler<R>,
    private readonly log: Logger,
    private readonly hooks: RunnerHooks<R> = {},
  ) {
    this.producer = new OutputProducer(client, log, { maxRequestBytes: options.maxRequestBytes ?? 900_000, errorsTopic: options.errorsTopic, refusedOutput: hooks.refusedOutput });
    this.topics = [options.inputTopic];
  }

  /** True once the consumer has started and until it stops or gives up. */
  get isRunning(): boolean {
    return this.running && !this.fatal;
  }

  /** True once the runner has given up on a slice (the process is about to exit 1). */
  get failed(): boolean {
    return this.fatal !== undefined;
  }

  /** When a slice was last committed (start time before the first). */
  get lastProgress(): Date {
    return new Date(this.lastCommitAt);
  }

  /** How long the oldest slice in hand has been in hand (0: none). */
  oldestSliceMs(): number {
    let oldest = Infinity;
    for (const t of this.inFlight.values()) oldest = Math.min(oldest, t);
    return oldest === Infinity ? 0 : Date.now() - oldest;
  }

  /** Partitions paused because their next record waits for a package. */
  waitingPartitions(): WaitingPartition[] {
    return [...this.waiting.values()];
  }

  /**
   * Resumes every waiting partition: the consumer fetches again from the first record
   * that waited, which is routed anew (and pauses again if its package is still missing).
   */
  resumeWaiting(): void {
    if (this.waiting.size === 0 || !this.consumer) return;
    const entries = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of entries) this.consumer.resume(w.topic, w.partition);
    this.log.info({ partitions: entries.map((w) => `${w.topic}/${w.partition}`) }, 'resuming partitions that waited for a package');
  }

  /**
   * Subscribes to exactly these input topics (the default one is always kept). kafkajs
   * cannot change a running consumer's subscription, so a change restarts the consumer:
   * it leaves the group after the slice in hand and rejoins from the committed offsets.
   */
  setTopics(topics: readonly string[]): Promise<void> {
    const next = [...new Set([this.options.inputTopic, ...topics])].sort();
    this.restarting = this.restarting.then(async () => {
      if (next.join(',') === this.topics.join(',') || this.stopping) return;
      this.topics = next;
      if (!this.consumer) return;
      this.log.info({ topics: next }, 'input topics changed; rejoining the group with the new subscription');
      const old = this.consumer;
      this.consumer = undefined;
      this.waiting.clear();
      this.epoch++;
      await this.lanesDone();
      await old.disconnect();
      if (!this.stopping) await this.startConsumer();
    });
    return this.restarting;
  }

  /** Heartbeats go out this often while a slice is in hand (kafkajs sends none by itself then; librdkafka does). */
  get heartbeatIntervalMs(): number {
    return heartbeatIntervalOf(this.options.sessionTimeoutMs);
  }

  /** Connects and starts consuming; resolves once the consumer runs. */
  async start(onCrash: (e: Error) => void): Promise<void> {
    this.crashed = onCrash;
    await this.producer.connect();
    await this.startConsumer();
    this.running = true;
    this.log.info({ topic: this.options.inputTopic, topics: this.topics, groupId: this.options.groupId, client: this.client.name }, 'consuming');
    this.stopDeliveryLog = this.delivery.startLogging(this.log, 30_000);
  }

  private async startConsumer(): Promise<void> {
    const consumer = this.client.consumer(
      consumerSettings(this.options, () => !this.fatal && !this.stopping),
      {
        crashed: (error, restarting) => {
          this.epoch++;
          this.generation++;
          if (!restarting) this.afterCrash(this.fatal ?? error);
        },
        rebalancing: () => {
          this.epoch++;
        },
        joined: ({ groupId, memberId, assignment }) => {
          this.rebalance = undefined;
          this.epoch++;
          this.generation++;
          for (const key of [...this.committedNext.keys()]) {
            const cut = key.lastIndexOf('/');
            if (!assignment[key.slice(0, cut)]?.includes(Number(key.slice(cut + 1)))) this.committedNext.delete(key);
          }
          this.log.info({ groupId, memberId, assignment }, 'joined consumer group');
        },
      },
    );
    this.consumer = consumer;
    // A failure a lane kept for the consumer before is not this one's to retry.
    for (const lane of this.lanes.values()) lane.error = undefined;
    await consumer.connect();
    await this.ensureTopics(this.topics);
    await consumer.subscribe(this.topics);
    await consumer.run((batch) => this.eachBatch(batch));
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

  /**
   * Without fetch-ahead, the batch is worked on here and the client fetches again once every
   * partition's batch is done. With it, the batch goes to the partition's lane and this
   * returns at once, so the next fetch overlaps the work: a barrier of fetch round trip,
   * decoding and the slowest partition's last slices no longer idles the engine. A
   * partition's next batch waits here until its lane is done, so batches of one partition
   * still run (and commit) in order and at most one batch per partition waits in memory.
   */
  private async eachBatch(batch: PartitionBatch): Promise<void> {
    if (this.fatal) throw this.fatal;
    if (!batch.release || this.options.fetchAhead === false) {
      await this.runBatch(batch, undefined);
      return;
    }
    const key = `${batch.topic}/${batch.partition}`;
    const before = this.lanes.get(key);
    if (before) {
      await before.done;
      if (before.error !== undefined) {
        // Handed to the client once, as a failure of this batch would be: it retries, from the
        // first record the lane did not commit (released there).
        const e = before.error;
        before.error = undefined;
        throw e;
      }
    }
    if (this.fatal) throw this.fatal;
    if (this.rebalance) throw this.rebalance;
    // Not released: the client fetches these records again (from where the lane released).
    if (!batch.isActive() || this.stopping || this.waiting.has(key)) {
      batch.dispose?.();
      return;
    }
    const all = batch.messages;
    const end = offsetAfter(all[all.length - 1]!);
    // A lane's commit can land after a rejoin read the committed offsets: its records come
    // again and are skipped (done and committed here already).
    const floor = this.committedNext.get(key);
    let first = 0;
    if (floor !== undefined) while (first < all.length && BigInt(all[first]!.offset) < floor) first++;
    if (first === all.length) {
      batch.release(end);
      batch.dispose?.();
      return;
    }
    const records = first === 0 ? batch : { ...batch, messages: all.slice(first) };
    // A batch smaller than a full fetch means the partition is keeping up: worked on here, so
    // kafkajs's next fetch waits and takes everything that arrived meanwhile at once. Fetched
    // ahead, such batches come back a few records each, every one a slice with its own produce
    // and commit round trips, and wait behind the lane: more latency for nothing gained.
    if (!fullFetch(records.messages, this.sliceBounds())) {
      await this.runBatch(records, undefined);
      return;
    }
    batch.release(end);
    const epoch = this.epoch;
    const generation = this.generation;
    const lane: Lane = { done: Promise.resolve() };
    const state: LaneState = { current: () => this.epoch === epoch && !this.rebalance, committable: () => this.generation === generation };
    this.laneTurns ??= new Turns(this.options.partitionsConsumedConcurrently);
    const turns = this.laneTurns;
    lane.done = turns
      .take()
      .then(() => this.runBatch(records, state))
      .catch((e: unknown) => this.laneFailed(key, lane, e))
      .finally(() => turns.end());
    this.lanes.set(key, lane);
  }

  /** A lane's batch failed: a fatal failure stops the runtime, any other goes to the client with the partition's next batch. */
  private laneFailed(key: string, lane: Lane, e: unknown): void {
    if (this.fatal) {
      if (!this.fatalReported) {
        this.fatalReported = true;
        this.afterCrash(this.fatal);
      }
      return;
    }
    if (isRebalance(e)) return; // logged as a refused commit; the client rejoins by itself
    lane.error = e;
    this.log.warn({ partition: key, reason: describe(e) }, 'a batch failed; its records are read again from the first one not committed');
  }

  /** Every lane done: a stop or a subscription change lets the slices in hand finish and commit first. */
  private async lanesDone(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((l) => l.done));
  }

  /**
   * A batch, slice by slice. `lane` is set when it runs after `eachBatch` returned: then a
   * rebalance, a stop or a pause ends it quietly and the client's next fetch of the
   * partition is released back to the first record not committed.
   *
   * Slices overlap in three steps: while one slice's outputs are produced, the next is already
   * in the engine (on the worker pool); and up to `slicesInFlight` slices of the partition may
   * be produced before the oldest of them is committed. Commits are chained, so a partition's
   * offsets are still committed in order, each only after its own slice's outputs (and every
   * earlier slice's) are acknowledged; a slice whose delivery fails gives up the slices after
   * it uncommitted. What changes with more than one in flight: a partition waits for one
   * produce round trip per slice instead of a produce and a commit round trip, and when a
   * produce is retried, a slice's outputs can land after the next slice's (as outputs repeated
   * after a restart land after later ones). A slice computed but not delivered (a stop, a
   * rebalance, a pause) only costs the work.
   */
  private async runBatch(batch: PartitionBatch, lane: LaneState | undefined): Promise<void> {
    const { heartbeat } = batch;
    const stopBeating = keepBeating(heartbeat, this.heartbeatIntervalMs, (e) => {
      if (isRebalance(e)) this.rebalance ??= e;
    });
    const all = batch.messages;
    const key = `${batch.topic}/${batch.partition}`;
    const depth = Math.max(1, this.options.slicesInFlight ?? 1);
    // Slices produced (or being produced) and not yet committed, oldest first.
    const inHand: Delivering[] = [];
    // What still reads the batch's records after its loop: slices the engine started on, and
    // every slice's delivery and commit (a stopped chain no longer waits for the ones after it).
    const readers: Promise<unknown>[] = [];
    const chain: CommitChain = { pending: all[0]!.offset, last: Promise.resolve(true), stopped: false };
    let failure: unknown;
    try {
      await this.walkSlices(batch, lane, inHand, chain, depth, readers);
    } catch (e) {
      failure = e;
    }
    disposeWhenRead(batch, readers, this.log);
    // Slices already produced still commit (in order) before the batch ends: a stop or a
    // rebalance lets them finish, as the slice in hand always did.
    for (const d of inHand) await d.committed.catch((e: unknown) => (failure ??= e));
    this.inFlight.delete(key);
    stopBeating();
    // After a rejoin the client reads the partition from the committed offset by itself.
    if (lane && lane.committable() && chain.pending !== offsetAfter(all[all.length - 1]!)) batch.release?.(chain.pending);
    if (failure !== undefined) {
      if (failure instanceof DeliveryError && !this.fatal) {
        this.fatal = failure;
        this.log.fatal({ reason: failure.message }, 'giving up: nothing after the last committed offset is lost, a restart resumes there');
      }
      throw failure;
    }
  }

  /** The batch's slices into the engine and out to Kafka, at most `depth` of them uncommitted; returns early when one must not start. */
  private async walkSlices(batch: PartitionBatch, lane: LaneState | undefined, inHand: Delivering[], chain: CommitChain, depth: number, readers: Promise<unknown>[]): Promise<void> {
    const all = batch.messages;
    const key = `${batch.topic}/${batch.partition}`;
    const bounds = this.sliceBounds();
    let next: Prepared<R> | undefined;
    // The current slice is all[start, end), the one after it all[end, following).
    let end = sliceEnd(all, 0, bounds);
    let following = end;
    for (let start = 0; start < all.length; start = end, end = following) {
      if (!batch.isActive() || this.stopping) return;
      if (lane && !lane.current()) return;
      // A slice started now would likely be refused its commit and repeated by the next owner.
      if (this.rebalance) throw this.rebalance;
      if (chain.stopped) return;
      if (inHand.length === 0) this.inFlight.set(key, Date.now());
      const current = next ?? this.prepare(batch.topic, batch.partition, all.slice(start, end));
      if (!next) readers.push(current.result.catch(() => undefined));
      following = sliceEnd(all, end, bounds);
      next = end < all.length ? this.prepare(batch.topic, batch.partition, all.slice(end, following), true) : undefined;
      // Its failures, if any, surface when it is awaited as the current slice (or not at all).
      if (next) readers.push(next.result.catch(() => undefined));
      const result = await current.result;
      // A slice before this one failed or could not commit meanwhile: nothing after it is produced.
      if (chain.stopped) return;
      const slice = this.deliverSlice(batch, current, result, chain, lane);
      // The commit step's hooks read the slice's inputs too; only a failed delivery keeps the batch from being disposed.
      readers.push(slice.delivered, slice.committed.catch(() => undefined));
      inHand.push(slice);
      if (!slice.complete) return;
      while (inHand.length >= depth) {
        if (!(await inHand.shift()!.committed)) return;
      }
      if (inHand.length > 0) this.inFlight.set(key, inHand[0]!.started);
      await batch.heartbeat();
    }
  }

  private sliceBounds(): SliceBounds {
    return { maxRecords: this.options.sliceSize, maxBytes: this.options.sliceBytes ?? Number.POSITIVE_INFINITY };
  }

  /**
   * A slice handed to the engine: its inputs and the promise of its outputs. `soon`: the
   * engine starts on it after the current turn, once the slice before it has sent its
   * produce request — engine work on this thread (no worker pool, or a cheap model) then
   * fills the wait for the acknowledgement instead of delaying the request.
   */
  private prepare(topic: string, partition: number, slice: readonly KafkaRecord[], soon = false): Prepared<R> {
    const started = performance.now();
    const inputs: InputMessage[] = slice.map((m) => ({ topic, partition, offset: m.offset, key: m.key, value: m.value, timestamp: m.timestamp, headers: m.headers }));
    const result = soon ? new Promise<R>((resolve, reject) => setImmediate(() => this.handle(inputs).then(resolve, reject))) : this.handle(inputs);
    return { inputs, started, result };
  }

  /**
   * One slice's outputs: produced now, then committed once every earlier slice of the
   * partition has committed. `committed` resolves true when the slice's records are all
   * committed, false when the partition paused part-way or a lane's commit was given up
   * because the group changed meanwhile (the chain then stops: later slices commit nothing),
   * and rejects when the delivery, the sink or the commit failed (later slices fail with it).
   */
  private deliverSlice(batch: PartitionBatch, { inputs, started }: Prepared<R>, result: R, chain: CommitChain, lane?: LaneState): Delivering {
    const { topic, partition } = batch;
    const processed = Math.max(0, Math.min(inputs.length, result.processed ?? inputs.length));
    const done = inputs.slice(0, processed);
    const complete = processed === inputs.length;
    const before = chain.last;
    let committed: Promise<boolean>;
    let delivered: Promise<void> = Promise.resolve();
    if (processed === 0) {
      committed = before.then((ok) => {
        if (ok) this.pausedAt(chain, topic, partition, inputs[0]!.offset, result.wait);
        return false;
      });
    } else {
      const last = done[done.length - 1]!.offset;
      const what = `${topic}/${partition} offsets ${done[0]!.offset}..${last}`;
      const outputs = [...result.predictions, ...result.errors, ...(result.shadow ?? [])];
      const deadlineAt = Date.now() + this.options.deliveryTimeoutMs;
      delivered = (async () => {
        try {
          await this.ensureTopics(outputs.map((m) => m.topic));
          await this.producer.deliver(byTopic(outputs), deadlineAt, () => this.stopping, what);
        } catch (e) {
          this.delivery.recordFailed(outputs.length);
          throw e instanceof DeliveryError ? e : new DeliveryError(`cannot deliver the outputs of ${what}: ${describe(e)}`);
        }
        this.delivery.recordAcknowledged(outputs.length);
      })();
      // Awaited below; a slice before this one may fail first, and then this one's failure is not the news.
      delivered.catch(() => undefined);
      committed = (async () => {
        if (!(await before)) return false;
        await delivered;
        await this.hooks.beforeCommit?.(result, done, deadlineAt, what).catch((e: unknown) => {
          throw new DeliveryError(`the sink did not take ${what}: ${describe(e)}`);
        });
        const next = offsetAfter(done[done.length - 1]!);
        if (!(await this.commit(() => batch.commit(next), what, lane?.committable))) return false;
        chain.pending = next;
        if (lane) this.committedNext.set(`${topic}/${partition}`, BigInt(next));
        else batch.release?.(next);
        this.lastCommitAt = Date.now();
        this.records += processed;
        this.slices++;
        this.hooks.afterCommit?.(result, done, performance.now() - started, batch.highWatermark);
        if (!complete) this.pausedAt(chain, topic, partition, inputs[processed]!.offset, result.wait);
        return complete;
      })();
    }
    committed = committed.then(
      (ok) => {
        if (!ok) chain.stopped = true;
        return ok;
      },
      (e: unknown) => {
        chain.stopped = true;
        throw e;
      },
    );
    // The next slice commits after this one; the handler also keeps a failure the batch's loop
    // has not reached yet from counting as unhandled.
    chain.last = committed.catch(() => false);
    return { committed, delivered, complete, started: Date.now() - (performance.now() - started) };
  }

  /** The partition's records from `offset` on wait for a package: the chain stops there. */
  private pausedAt(chain: CommitChain, topic: string, partition: number, offset: string, wait: WaitReason | undefined): void {
    chain.pending = offset;
    this.pauseAt(topic, partition, offset, wait ?? { reason: 'the record waits for its package', model: '' });
  }

  /** Stops fetching a partition whose next record has no loaded package; nothing from `offset` on is committed. */
  private pauseAt(topic: string, partition: number, offset: string, wait: WaitReason): void {
    const key = `${topic}/${partition}`;
    const entry: WaitingPartition = { topic, partition, offset, ...wait, since: new Date() };
    this.waiting.set(key, entry);
    this.consumer?.pause(topic, partition, offset);
    this.log.warn({ partition: key, offset, reason: wait.reason }, 'partition paused: its next record waits for a package (nothing is committed past it)');
    this.hooks.onWait?.(entry);
  }

  /**
   * Creates the topics that do not exist yet (a package's own input or output topics), as
   * the default input topic is laid out. A broker without CreateTopics (librdkafka's mock
   * cluster, the local broker) is asked for their metadata with auto-creation allowed
   * instead; a topic that still does not exist is an error naming it.
   */
  private async ensureTopics(topics: readonly string[]): Promise<void> {
    const missing = [...new Set(topics)].filter((t) => !this.existingTopics.has(t));
    if (missing.length === 0) return;
    const admin = this.client.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const absent = missing.filter((t) => !existing.has(t));
      if (absent.length) {
        const partitions = existing.has(this.options.inputTopic) ? ((await admin.partitionCount(this.options.inputTopic)) ?? 1) : 1;
        try {
          await admin.createTopics(absent, partitions);
        } catch (e) {
          this.log.debug({ reason: describe(e) }, 'CreateTopics failed; asking for the topics with auto-creation allowed');
          await admin.autoCreate(absent, this.options.groupId);
        }
        const now = new Set(await admin.listTopics());
        const still = absent.filter((t) => !now.has(t));
        if (still.length) throw new Error(`topics ${still.join(', ')} do not exist and the broker would not create them; create them`);
        this.log.info({ topics: absent }, 'created topics named by model packages');
      }
      for (const t of missing) this.existingTopics.add(t);
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Commits through the batch's own commit function, which still commits once a stop has
   * begun: SIGTERM finishes the slice in hand *and* commits it. A rebalance error is rethrown
   * for the client to rejoin; the slice's outputs are out already,
   * so the partition's next owner repeats them (duplicates, never loss).
   */
  private async commit(commitOnce: () => Promise<void>, what: string, committable?: () => boolean): Promise<boolean> {
    const deadlineAt = Date.now() + this.options.deliveryTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      // A lane outlived its group generation (a rejoin or a new consumer): the partition may be
      // another member's now, which reads it from the committed offset, so committing would
      // hide a repeat rather than prevent one.
      if (committable && !committable()) {
        this.log.warn({ slice: what }, 'commit refused by a rebalance; the next owner of the partition repeats this slice');
        return false;
      }
      try {
        await commitOnce();
        return true;
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
    this.running = false;
    this.crashed = undefined;
    await this.restarting.catch(() => undefined);
    const bound = this.options.deliveryTimeoutMs + STOP_MARGIN_MS;
    const consumer = this.consumer;
    await within((async () => {
      await this.lanesDone();
      await consumer?.disconnect();
    })(), bound, `the consumer did not stop within ${bound} ms`);
    await within(this.producer.disconnect(), STOP_MARGIN_MS, `the producer did not disconnect within ${STOP_MARGIN_MS} ms`);
    this.stopDeliveryLog?.();
    this.log.info({ records: this.records, slices: this.slices }, 'runner stopped');
    if (this.fatal) throw this.fatal;
  }
}

/**
 * Disposes the batch (PartitionBatch.dispose) once everything in `readers` has settled, unless
 * a delivery failed: a produce request given up at its deadline may still be written later,
 * reading its outputs' keys (views of the records), so that batch's memory is left to the
 * garbage collector. Does not hold up the batch's end: a stop or the partition's next batch
 * does not wait for deliveries a stopped chain left running.
 */
function disposeWhenRead(batch: PartitionBatch, readers: readonly Promise<unknown>[], log: Logger): void {
  if (!batch.dispose) return;
  void Promise.allSettled(readers).then((settled) => {
    if (!settled.every((r) => r.status === 'fulfilled')) return;
    try {
      batch.dispose!();
    } catch (e) {
      // Nothing here may end the process: the memory is then left to the garbage collector.
      log.error({ partition: `${batch.topic}/${batch.partition}`, reason: describe(e) }, 'could not dispose of a batch');
    }
  });
}

/** The offset after a record's (Kafka offsets are 64-bit decimal strings). */
function offsetAfter(record: { readonly offset: string }): string {
  return (BigInt(record.offset) + 1n).toString();
}

/**
 * A batch from a partition that is behind: a whole slice (by records or bytes), or half of
 * what a partition may fetch at once with fetch-ahead (big records fill a fetch before a slice).
 */
function fullFetch(messages: readonly KafkaRecord[], { maxRecords, maxBytes }: SliceBounds): boolean {
  if (messages.length >= maxRecords) return true;
  let bytes = 0;
  for (const m of messages) bytes += m.value?.length ?? 0;
  return bytes >= Math.min(maxBytes, FETCH_AHEAD_MAX_BYTES_PER_PARTITION / 2);
}

interface Lane {
  /** Settles once the batch is done, stopped or failed; never rejects. */
  done: Promise<void>;
  /** A failure not yet handed to the client. */
  error?: unknown;
}

interface LaneState {
  /** False once the lane should start no further slice: the group is rebalancing or was rejoined. */
  current(): boolean;
  /** False once the lane's group generation is over: nothing more is committed. */
  committable(): boolean;
}

interface Delivering {
  /** True when the slice is committed whole; false when the chain stopped there. Rejects on a failure. */
  readonly committed: Promise<boolean>;
  /** Settles once the slice's outputs are acknowledged (or there were none); rejects when their delivery failed. */
  readonly delivered: Promise<void>;
  /** Every record of the slice has outputs (false: the partition pauses after its last output). */
  readonly complete: boolean;
  /** When the slice was handed to the engine (epoch ms). */
  readonly started: number;
}

/** A batch's slices in production, committed one after the other. */
interface CommitChain {
  /** The first record not committed yet (where the client's next fetch starts when the batch ends early). */
  pending: string;
  /** Settles with the latest slice's outcome (false on a failure); the next slice commits after it. */
  last: Promise<boolean>;
  /** A slice failed, paused or could not commit: no further slice is produced. */
  stopped: boolean;
}

interface Prepared<R> {
  readonly inputs: InputMessage[];
  readonly started: number;
  readonly result: Promise<R>;
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

function byTopic(outputs: readonly OutputMessage[]): TopicRecords[] {
  const topics = new Map<string, OutputRecord[]>();
  for (const m of outputs) {
    let list = topics.get(m.topic);
    if (!list) topics.set(m.topic, (list = []));
    list.push({ key: m.key, value: m.value, headers: m.headers });
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}
