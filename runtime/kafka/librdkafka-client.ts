import type { KafkaConsumer as BaseConsumer, LibrdKafkaError, Message, MessageHeader, Producer, TopicPartition, TopicPartitionOffset } from '@confluentinc/kafka-javascript';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { loadConfluent } from './confluent.js';
import { sleep } from './delivery.js';
import type { BatchConsumer, ConsumerEvents, ConsumerSettings, HeaderValue, KafkaClient, KafkaRecord, OutputSender, PartitionBatch, TopicAdmin, TopicRecords } from './port.js';
import { recordsPerSlice } from './slices.js';
import { Turns } from './turns.js';

type Module = Awaited<ReturnType<typeof loadConfluent>>;

/** Two calls the package's JavaScript has and its typings lack. */
type KafkaConsumer = BaseConsumer & {
  setDefaultIsTimeoutOnlyForFirstMessage(onlyFirst: boolean): void;
  commitCb(offsets: TopicPartitionOffset[], cb: (e: LibrdKafkaError | null) => void): void;
};

export interface LibrdkafkaSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** librdkafka's own produce retries stop here; the runner's delivery deadline is the same. */
  readonly deliveryTimeoutMs: number;
  /** TLS and SASL, as the runtime config has them for kafkajs too (KAFKA_SSL*, KAFKA_SASL_*). */
  readonly ssl?: Config['ssl'];
  readonly sasl?: Config['sasl'];
}

/**
 * librdkafka's properties for the runtime's TLS and SASL settings, the same meaning kafkajs
 * gives them: a CA, client certificate and key as PEM text (read from KAFKA_SSL_*_FILE);
 * `rejectUnauthorized: false` turns off both the chain and the host name check, as it does for
 * Node's TLS; no CA means the system's store (OpenSSL's default paths). SASL PLAIN and
 * SCRAM-SHA-256/512 with a user name and password, over TLS when TLS is on.
 */
export function securityProperties(ssl: Config['ssl'] | undefined, sasl: Config['sasl'] | undefined): Record<string, string | boolean> {
  const props: Record<string, string | boolean> = {};
  const protocol = `${sasl ? 'sasl_' : ''}${ssl ? 'ssl' : 'plaintext'}`;
  if (protocol !== 'plaintext') props['security.protocol'] = protocol;
  if (ssl) {
    const options = ssl === true ? { rejectUnauthorized: true } : ssl;
    if (options.ca?.length) props['ssl.ca.pem'] = options.ca.join('\n');
    if (options.cert) props['ssl.certificate.pem'] = options.cert;
    if (options.key) props['ssl.key.pem'] = options.key;
    props['enable.ssl.certificate.verification'] = options.rejectUnauthorized;
    props['ssl.endpoint.identification.algorithm'] = options.rejectUnauthorized ? 'https' : 'none';
  }
  if (sasl) {
    props['sasl.mechanisms'] = sasl.mechanism.toUpperCase();
    props['sasl.username'] = sasl.username;
    props['sasl.password'] = sasl.password;
  }
  return props;
}

/**
 * What the runtime's TLS and SASL settings need of the built library (librdkafka's
 * `builtin.features`); scripts/kafka-native/build.sh builds with OpenSSL where its headers are.
 */
function missingFeatures(features: readonly string[], ssl: Config['ssl'] | undefined, sasl: Config['sasl'] | undefined): string[] {
  const need: string[] = [];
  if (ssl) need.push('ssl');
  if (sasl) need.push(sasl.mechanism === 'plain' ? 'sasl_plain' : 'sasl_scram');
  return need.filter((f) => !features.includes(f));
}

/**
 * The runner's Kafka client on librdkafka (@confluentinc/kafka-javascript's native API; its
 * KafkaJS-style layer was slower than kafkajs in an early experiment, not kept). librdkafka fetches, heartbeats and batches produce
 * requests on its own threads; this adapter groups what one consume call returns into
 * batches per partition and runs up to `concurrency` partitions at once.
 */
export async function librdkafkaClient(settings: LibrdkafkaSettings, log: Logger): Promise<KafkaClient> {
  const mod = await loadConfluent();
  const missing = missingFeatures(mod.features ?? [], settings.ssl, settings.sasl);
  if (missing.length) {
    throw new Error(`the librdkafka client here was built without ${missing.join(', ')} (OpenSSL's headers were missing when scripts/broker/build.sh built it: apt-get install libssl-dev, then run scripts/broker/build.sh and scripts/kafka-native/build.sh again), so it cannot use the TLS/SASL settings; KAFKA_CLIENT=kafkajs can`);
  }
  const clientLog = log.child({ component: 'librdkafka' });
  const common = { 'metadata.broker.list': settings.brokers.join(','), 'client.id': settings.clientId, event_cb: true, ...securityProperties(settings.ssl, settings.sasl) };
  // librdkafka's own log (warnings and errors: connection failures, leader changes) goes to
  // pino as kafkajs's does; its error events too. librdkafka retries these by itself.
  const listen = (client: KafkaConsumer | Producer): void => {
    const events = client as unknown as NodeJS.EventEmitter;
    events.on('event.error', (e: LibrdKafkaError) => clientLog.warn({ code: e.code, reason: e.message }, 'librdkafka reported an error (it retries by itself)'));
    events.on('event.log', (l: { severity: number; fac: string; message: string }) => {
      if (l.severity <= 3) clientLog.error({ facility: l.fac }, l.message);
      else if (l.severity === 4) clientLog.warn({ facility: l.fac }, l.message);
    });
  };
  return {
    name: 'librdkafka',
    consumer: (s, events) => new RdkafkaConsumer(mod, common, s, events, clientLog, listen),
    sender: () => new RdkafkaSender(mod, common, settings.deliveryTimeoutMs, listen),
    admin: () => new RdkafkaAdmin(mod, common, settings.deliveryTimeoutMs),
  };
}

/**
 * Records one consume call may return: about a slice per partition handled at once. librdkafka
 * hands a rebalance to the application only inside a consume call, so a round is kept to what
 * the runner finishes in one slice time (a kafkajs consumer notices a rebalance between slices
 * too). Read-ahead is librdkafka's fetch queue, bounded by bytes (queued.max.messages.kbytes).
 */
function roundSize(s: ConsumerSettings, meanValueBytes: number): number {
  // A slice is cut by bytes too (SLICE_BYTES): where records are big, fewer make a slice.
  const perSlice = recordsPerSlice({ maxRecords: s.sliceSize, maxBytes: s.sliceBytes ?? Number.POSITIVE_INFINITY }, meanValueBytes);
  return Math.max(100, perSlice * s.concurrency);
}
/** A round of `roundSize` records, or of half the bytes librdkafka queues (big records fill the queue first). */
function fullRound(messages: readonly Message[], bytes: number, s: ConsumerSettings, meanValueBytes: number): boolean {
  return messages.length >= roundSize(s, meanValueBytes) || bytes >= s.maxBytes / 2;
}
/**
 * After a round that was not full, how long the loop waits for the batches in hand before it
 * consumes again anyway. Cheap batches finish well within it (the wait then gives the next
 * round everything that arrived meanwhile); a slower one no longer holds back the other
 * partitions' next records beyond it.
 */
const SMALL_ROUND_WAIT_MS = 50;
/** How long a consume call waits for the first record. */
const CONSUME_WAIT_MS = 100;
const SEEK_TIMEOUT_MS = 5000;
const COMMIT_CHECK_TIMEOUT_MS = 10_000;

/** Kafka's error names as kafkajs spells them, where librdkafka's differ (the runner classifies by these). */
const TYPE_BY_CODE: Record<number, string> = { 10: 'MESSAGE_TOO_LARGE', 16: 'NOT_COORDINATOR_FOR_GROUP' };
/** Errors no resend can cure. */
const PERMANENT = new Set(['TOPIC_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'INVALID_RECORD', 'INVALID_REQUIRED_ACKS', 'UNSUPPORTED_VERSION']);

/** A librdkafka error as the runner reads errors: Kafka's error name in `type`, and whether to try again. */
function kafkaError(mod: Module, e: LibrdKafkaError | Error, context: string): Error & { type?: string; retriable: boolean; code?: number } {
  const code = (e as LibrdKafkaError).code;
  let type: string | undefined;
  if (typeof code === 'number') {
    type = TYPE_BY_CODE[code];
    if (!type) {
      const name = Object.entries(mod.CODES.ERRORS).find(([, c]) => c === code)?.[0];
      type = name?.replace(/^ERR_/, '');
    }
  }
  const fatal = (e as LibrdKafkaError).isFatal === true;
  return Object.assign(new Error(`${context}: ${e.message}`), { name: 'KafkaError', type, code, retriable: !fatal && !PERMANENT.has(type ?? '') });
}

/**
 * What librdkafka logs (facility FAIL) when a broker connection fails its TLS handshake or SASL
 * authentication: settings that no retry cures (a wrong CA, wrong credentials, a mechanism the
 * broker lacks). librdkafka itself keeps retrying and raises no error naming the cause.
 */
const AUTH_FAILURE = /SSL handshake failed|SASL|[Aa]uthentication/;
/** How long a client may take to connect (its first metadata answer), in all. */
const CONNECT_TIMEOUT_MS = 30_000;
/**
 * One connect attempt's bound. The package's connect blocks a libuv thread in a metadata call
 * until it is answered or times out, and the process cannot exit before that call returns
 * (Node joins those threads at exit): in attempts this long, a TLS or SASL failure ends start-up
 * within one attempt rather than after the whole timeout.
 */
const CONNECT_ATTEMPT_MS = 3_000;
/** Failed attempts worth another (librdkafka's codes): timed out, transport failure, all brokers down. */
const CONNECT_RETRY_CODES = new Set([-185, -195, -187]);
const CONNECT_RETRY_PAUSE_MS = 200;

/**
 * Connects a librdkafka client (consumer or producer), failing with the reason as the runner
 * reads errors: a TLS or SASL failure with librdkafka's own words (kafkajs fails as fast), not
 * as a bare "broker transport failure" after the connect timeout.
 */
async function connect(mod: Module, client: KafkaConsumer | Producer, what: string): Promise<void> {
  const c = client as unknown as { connect(options: { timeout: number }, cb: (e: LibrdKafkaError | null) => void): void };
  const events = client as unknown as NodeJS.EventEmitter;
  let authFailure: string | undefined;
  const onLog = (l: { severity: number; fac: string; message: string }): void => {
    // "[thrd:sasl_ssl://host:port/bootstrap]: sasl_ssl://host:port/bootstrap: <reason>" → from "sasl_ssl://" on
    if (l.fac === 'FAIL' && AUTH_FAILURE.test(l.message)) authFailure ??= l.message.replace(/^\[thrd:[^\]]*\]: /, '');
  };
  events.on('event.log', onLog);
  try {
    const deadline = Date.now() + CONNECT_TIMEOUT_MS;
    for (;;) {
      const timeout = Math.max(1, Math.min(CONNECT_ATTEMPT_MS, deadline - Date.now()));
      const e = await new Promise<LibrdKafkaError | null>((resolve) => c.connect({ timeout }, resolve));
      if (!e) return;
      if (authFailure) throw Object.assign(new Error(`${what} connect: ${authFailure}`), { name: 'KafkaError', type: 'AUTHENTICATION', retriable: false });
      if (!CONNECT_RETRY_CODES.has(e.code) || Date.now() >= deadline) throw kafkaError(mod, e, `${what} connect`);
      await sleep(Math.min(CONNECT_RETRY_PAUSE_MS, Math.max(0, deadline - Date.now())));
    }
  } finally {
    events.off('event.log', onLog);
  }
}

function toHeaders(headers: MessageHeader[] | undefined): Record<string, HeaderValue> | undefined {
  if (!headers?.length) return undefined;
  const out: Record<string, HeaderValue> = {};
  for (const h of headers) {
    for (const [k, v] of Object.entries(h)) {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
  }
  return out;
}

function toRecord(m: Message): KafkaRecord {
  return {
    offset: String(m.offset),
    key: m.key === undefined || m.key === null ? null : typeof m.key === 'string' ? Buffer.from(m.key) : m.key,
    value: m.value,
    timestamp: String(m.timestamp ?? -1),
    headers: toHeaders(m.headers),
  };
}

class RdkafkaConsumer implements BatchConsumer {
  private readonly consumer: KafkaConsumer;
  private stopping = false;
  private loop: Promise<void> | undefined;
  /** Partition → bumped when it is taken away: batches started before are stale. */
  private readonly epochs = new Map<string, number>();
  private readonly assigned = new Set<string>();
  /** Paused partitions → the offset they restart from. */
  private readonly paused = new Map<string, string>();
  /** Seeks to make before the next consume call (resumed partitions, batches left unfinished). */
  private readonly seeks = new Map<string, { topic: string; partition: number; offset: string; resume: boolean }>();
  /** Partition → bumped when records fetched before must not run (a pause, a seek, a revocation). */
  private readonly versions = new Map<string, number>();
  /** Partition → its last queued batch: a partition's batches run one after another. */
  private readonly chains = new Map<string, Promise<void>>();
  /** At most `concurrency` batches run at once. */
  private readonly turns: Turns;
  /** Records queued or running: the loop consumes more only while under a round's worth. */
  private outstanding = 0;
  /** Whether the last consume call returned a full round: the partitions are behind. */
  private lastRoundFull = false;
  /** The mean value size of the last round's records (0 before the first): rounds are sized by it. */
  private meanValueBytes = 0;
  /** Wakes the loop waiting for `outstanding` to go down. */
  private progressed: (() => void) | undefined;

  constructor(
    private readonly mod: Module,
    common: Record<string, unknown>,
    private readonly settings: ConsumerSettings,
    private readonly events: ConsumerEvents,
    private readonly log: Logger,
    listen: (c: KafkaConsumer) => void,
  ) {
    const s = settings;
    this.turns = new Turns(s.concurrency);
    this.consumer = new mod.KafkaConsumer(
      {
        ...common,
        'group.id': s.groupId,
        'enable.auto.commit': false,
        'enable.auto.offset.store': false,
        'session.timeout.ms': s.sessionTimeoutMs,
        'heartbeat.interval.ms': s.heartbeatIntervalMs,
        'fetch.wait.max.ms': s.maxWaitTimeInMs,
        'fetch.max.bytes': s.maxBytes,
        'max.partition.fetch.bytes': s.maxBytesPerPartition,
        'queued.max.messages.kbytes': Math.ceil(s.maxBytes / 1024),
        // When that queue is full librdkafka pauses fetching for this long (default 1 s, which
        // left the bench's consumer idle for most of a second at a time): look again soon.
        'fetch.queue.backoff.ms': 10,
        'allow.auto.create.topics': false,
        rebalance_cb: (err: LibrdKafkaError, assignment: TopicPartition[]) => this.rebalanced(err, assignment),
      },
      { 'auto.offset.reset': s.fromBeginning ? 'earliest' : 'latest' },
    ) as KafkaConsumer;
    listen(this.consumer);
    this.consumer.setDefaultConsumeTimeout(CONSUME_WAIT_MS);
    // Return as soon as records are there instead of waiting the whole timeout for a full round.
    this.consumer.setDefaultIsTimeoutOnlyForFirstMessage(true);
  }

  private rebalanced(err: LibrdKafkaError, assignment: TopicPartition[]): void {
    const c = this.consumer;
    try {
      if (err.code === this.mod.CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
        c.assign(assignment);
        const byTopic: Record<string, number[]> = {};
        for (const { topic, partition } of assignment) {
          this.assigned.add(`${topic}/${partition}`);
          (byTopic[topic] ??= []).push(partition);
        }
        this.events.joined({ groupId: this.settings.groupId, assignment: byTopic });
      } else {
        for (const { topic, partition } of assignment) {
          const key = `${topic}/${partition}`;
          this.assigned.delete(key);
          this.paused.delete(key);
          this.seeks.delete(key);
          this.epochs.set(key, (this.epochs.get(key) ?? 0) + 1);
          this.invalidate(key);
        }
        c.unassign();
        this.log.info({ partitions: assignment.map((p) => `${p.topic}/${p.partition}`) }, 'partitions revoked by a rebalance');
      }
    } catch (e) {
      this.log.warn({ reason: (e as Error).message }, 'rebalance handling failed');
    }
  }

  connect(): Promise<void> {
    return connect(this.mod, this.consumer, 'consumer');
  }

  async subscribe(topics: readonly string[]): Promise<void> {
    this.consumer.subscribe([...topics]);
  }

  async run(eachBatch: (batch: PartitionBatch) => Promise<void>): Promise<void> {
    this.loop = this.consumeLoop(eachBatch).catch((e: unknown) => this.crash(e as Error));
  }

  /**
   * Consumes round after round without waiting for the batches of a round to finish: each
   * partition's batches queue behind one another (a partition is processed and committed in
   * order), up to `concurrency` of them run at once, and the next consume call goes out while
   * they run. Waiting for a whole round, as this loop first did, left the engine idle from the
   * first batch's end to the slowest one's, round after round (the same barrier kafkajs has;
   * see the runner's fetch-ahead). The records handed over and not finished stay under two
   * rounds: the loop consumes again only once fewer than a round's worth are outstanding.
   */
  private async consumeLoop(eachBatch: (batch: PartitionBatch) => Promise<void>): Promise<void> {
    try {
      while (!this.stopping) {
        await this.applySeeks();
        // After a round that was not full the partitions are keeping up: the next consume waits
        // for the batches in hand, so it takes everything that arrived meanwhile at once
        // instead of a few records per partition, each batch with its own round trips. Only for
        // a while, though: a partition whose batch takes longer (a slow slice) must not hold
        // back the others' next records, which is the barrier this loop exists to avoid.
        if (!this.lastRoundFull) {
          const until = Date.now() + SMALL_ROUND_WAIT_MS;
          while (this.outstanding > 0 && !this.stopping && Date.now() < until) await Promise.race([this.progress(), sleep(until - Date.now())]);
        }
        while (this.outstanding >= roundSize(this.settings, this.meanValueBytes) && !this.stopping) await this.progress();
        if (this.stopping) return;
        // A rebalance is served inside the consume call, and its callback may reach JavaScript
        // after the call returned records fetched under the old assignment: a partition taken
        // away since the call began drops its records (they are fetched again from the
        // committed offset by whoever owns the partition now). A partition paused, sought or
        // left unfinished meanwhile drops them too: they are fetched again from where it restarts.
        const epochs = new Map(this.epochs);
        const versions = new Map(this.versions);
        const messages = await this.consumeRound();
        if (this.stopping) return;
        let bytes = 0;
        for (const m of messages) bytes += m.value?.length ?? 0;
        this.lastRoundFull = fullRound(messages, bytes, this.settings, this.meanValueBytes);
        if (messages.length > 0) this.meanValueBytes = bytes / messages.length;
        const batches = new Map<string, Message[]>();
        for (const m of messages) {
          const key = `${m.topic}/${m.partition}`;
          if (!this.current(key, epochs.get(key) ?? 0, versions.get(key) ?? 0)) continue;
          let list = batches.get(key);
          if (!list) batches.set(key, (list = []));
          list.push(m);
        }
        for (const [key, list] of batches) this.enqueue(key, list, eachBatch, epochs.get(key) ?? 0, versions.get(key) ?? 0);
      }
    } finally {
      // A stop or a crash lets the batches in hand finish their slice (and commit it) first.
      await Promise.all(this.chains.values());
    }
  }

  /** Resolves when a batch in hand finishes. */
  private progress(): Promise<void> {
    return new Promise<void>((r) => (this.progressed = r));
  }

  /** Whether records fetched at (epoch, version) of a partition may still run now. */
  private current(key: string, epoch: number, version: number): boolean {
    return this.assigned.has(key) && !this.paused.has(key) && !this.seeks.has(key) && (this.epochs.get(key) ?? 0) === epoch && (this.versions.get(key) ?? 0) === version;
  }

  /** Records fetched before this no longer run: they are fetched again from where the partition restarts. */
  private invalidate(key: string): void {
    this.versions.set(key, (this.versions.get(key) ?? 0) + 1);
  }

  /** Queues a partition's batch behind its previous one; it runs when that is done and a turn is free. */
  private enqueue(key: string, list: Message[], eachBatch: (batch: PartitionBatch) => Promise<void>, epoch: number, version: number): void {
    this.outstanding += list.length;
    const run = async (): Promise<void> => {
      await this.turns.take();
      try {
        // Checked again when its turn comes: the batch before it may have paused the partition or left it to be read again.
        if (!this.stopping && this.current(key, epoch, version)) await this.runBatch(list, eachBatch, epoch);
      } finally {
        this.turns.end();
      }
    };
    const chain: Promise<void> = (this.chains.get(key) ?? Promise.resolve())
      .then(run)
      .catch((e: unknown) => void this.crash(e as Error))
      .finally(() => {
        this.outstanding -= list.length;
        if (this.chains.get(key) === chain) this.chains.delete(key);
        const progressed = this.progressed;
        this.progressed = undefined;
        progressed?.();
      });
    this.chains.set(key, chain);
  }

  private consumeRound(): Promise<Message[]> {
    return new Promise((resolve, reject) =>
      this.consumer.consume(roundSize(this.settings, this.meanValueBytes), (e, messages) => {
        if (!e) return resolve(messages);
        if (e.isFatal) return reject(kafkaError(this.mod, e, 'consume'));
        this.log.warn({ code: e.code, reason: e.message }, 'consume failed; trying again');
        setTimeout(() => resolve([]), 100);
      }),
    );
  }

  /** One partition's records: handed over, then what the runner did not finish is read again. */
  private async runBatch(list: Message[], eachBatch: (batch: PartitionBatch) => Promise<void>, epoch: number): Promise<void> {
    const { topic, partition } = list[0]!;
    const key = `${topic}/${partition}`;
    const owned = (): boolean => this.assigned.has(key) && (this.epochs.get(key) ?? 0) === epoch;
    const first = String(list[0]!.offset);
    let committed = first;
    let highWatermark = '-1';
    try {
      highWatermark = String(this.consumer.getWatermarkOffsets(topic, partition).highOffset);
    } catch {
      // not known yet
    }
    const isActive = (): boolean => !this.stopping && owned();
    const batch: PartitionBatch = {
      topic,
      partition,
      highWatermark,
      messages: list.map(toRecord),
      isActive,
      heartbeat: async () => undefined, // librdkafka heartbeats on its own thread
      commit: async (nextOffset) => {
        await this.commit(topic, partition, nextOffset, owned);
        committed = nextOffset;
      },
    };
    let failure: Error | undefined;
    try {
      await eachBatch(batch);
    } catch (e) {
      failure = e as Error;
    }
    const end = String(list[list.length - 1]!.offset + 1);
    // Records the runner did not commit are read again from the first of them (unless the
    // partition paused there and waits for resume(), or went to another member).
    if (committed !== end && owned() && !this.paused.has(key) && !this.stopping) {
      this.seeks.set(key, { topic, partition, offset: committed, resume: false });
      this.invalidate(key);
    }
    if (!failure) return;
    if ((failure as { retriable?: unknown }).retriable === false || !this.settings.restartOnFailure()) throw failure;
    this.log.warn({ partition: key, reason: failure.message }, 'a batch failed; its uncommitted records are read again');
  }

  /**
   * Commits one partition's offset and returns once the group coordinator holds it. The
   * package's commit call only queues the commit (librdkafka reports its outcome through the
   * poll loop, which waits for this very batch), so the offset is read back from the
   * coordinator: an OffsetFetch queued after the commit is answered after it. A commit that
   * did not take effect, or a partition taken away meanwhile (a new owner may already read
   * it from the committed offset), fails as a refused commit does: the runner treats it
   * alike — the slice's outputs are out, its next owner repeats them.
   */
  private async commit(topic: string, partition: number, nextOffset: string, owned: () => boolean): Promise<void> {
    const refused = (why: string): Error => Object.assign(new Error(`commit ${topic}/${partition} at ${nextOffset}: ${why}`), { type: 'REBALANCE_IN_PROGRESS', retriable: true });
    if (!owned()) throw refused('the partition was reassigned by a rebalance');
    const tp = { topic, partition };
    await new Promise<void>((resolve, reject) => this.consumer.commitCb([{ ...tp, offset: Number(nextOffset) }], (e) => (e ? reject(kafkaError(this.mod, e, `commit ${topic}/${partition}`)) : resolve())));
    const held = await new Promise<number>((resolve, reject) =>
      this.consumer.committed([tp], COMMIT_CHECK_TIMEOUT_MS, (e, tps) => (e ? reject(kafkaError(this.mod, e, `reading back the commit of ${topic}/${partition}`)) : resolve(tps[0]?.offset ?? -1))),
    );
    if (held < Number(nextOffset)) throw refused(`the coordinator holds ${held}: a rebalance refused the commit`);
    if (!owned()) throw refused('the partition was reassigned by a rebalance while committing');
  }

  private async applySeeks(): Promise<void> {
    for (const [key, s] of [...this.seeks]) {
      this.seeks.delete(key);
      if (!this.assigned.has(key)) continue;
      if (s.resume) this.consumer.resume([{ topic: s.topic, partition: s.partition }]);
      // A seek bumps the partition's fetch version: records fetched before it are discarded.
      await new Promise<void>((resolve) =>
        this.consumer.seek({ topic: s.topic, partition: s.partition, offset: Number(s.offset) }, SEEK_TIMEOUT_MS, (e) => {
          if (e) {
            this.log.warn({ partition: key, offset: s.offset, reason: e.message }, 'seek failed; trying again');
            this.seeks.set(key, s);
          }
          resolve();
        }),
      );
    }
  }

  private async crash(error: Error): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.close().catch(() => undefined);
    this.events.crashed(error, false);
  }

  pause(topic: string, partition: number, offset: string): void {
    this.paused.set(`${topic}/${partition}`, offset);
    this.invalidate(`${topic}/${partition}`);
    this.consumer.pause([{ topic, partition }]);
  }

  resume(topic: string, partition: number): void {
    const key = `${topic}/${partition}`;
    const offset = this.paused.get(key);
    if (offset === undefined) return;
    this.paused.delete(key);
    this.seeks.set(key, { topic, partition, offset, resume: true });
    this.invalidate(key);
  }

  async disconnect(): Promise<void> {
    if (this.stopping && !this.loop) return;
    this.stopping = true;
    await this.loop;
    this.loop = undefined;
    await this.close();
  }

  private close(): Promise<void> {
    if (!this.consumer.isConnected()) return Promise.resolve();
    return new Promise((resolve) => this.consumer.disconnect(() => resolve()));
  }
}

/** An acks=all producer; each send resolves once librdkafka has reported every record delivered. */
class RdkafkaSender implements OutputSender {
  private readonly producer: Producer;
  private pending = 0;
  /** Serves delivery reports while sends are pending (the package's setPollInterval adds a listener per call). */
  private polling: NodeJS.Timeout | undefined;

  constructor(
    private readonly mod: Module,
    common: Record<string, unknown>,
    deliveryTimeoutMs: number,
    listen: (p: Producer) => void,
  ) {
    this.producer = new mod.Producer({
      ...common,
      dr_cb: true,
      // Not idempotent, like the kafkajs producer: librdkafka's idempotent producer takes a
      // failed request followed by an acknowledged later one as written, which holds only where
      // the broker enforces sequence numbers. The local broker (librdkafka's mock cluster)
      // checks them for transactional producers only, and records were lost that way in
      // the produce-fault test. Retries may repeat or reorder outputs; they never drop one.
      'enable.idempotence': false,
      acks: -1,
      'linger.ms': 0,
      // The Java client's partitioner, which kafkajs's default also follows: a key lands where Java would put it.
      partitioner: 'murmur2_random',
      'message.timeout.ms': deliveryTimeoutMs,
      'queue.buffering.max.messages': 1_000_000,
      'queue.buffering.max.kbytes': 1_048_576,
      'allow.auto.create.topics': false,
    });
    listen(this.producer);
    this.producer.on('delivery-report', (e, report) => (report.opaque as Tracker).done(e ? kafkaError(this.mod, e, `produce to ${report.topic}`) : undefined));
  }

  connect(): Promise<void> {
    return connect(this.mod, this.producer, 'producer');
  }

  send(request: readonly TopicRecords[]): Promise<void> {
    const total = request.reduce((n, t) => n + t.messages.length, 0);
    if (total === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const tracker = new Tracker(total, (e) => {
        if (--this.pending === 0) this.stopPolling();
        if (e) reject(e);
        else resolve();
      });
      if (this.pending++ === 0) this.polling = setInterval(() => this.poll(), 1);
      for (const { topic, messages } of request) {
        for (const m of messages) {
          if (tracker.failed) {
            tracker.done(undefined);
            continue;
          }
          const headers = m.headers ? Object.entries(m.headers).flatMap(([k, v]) => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((one) => ({ [k]: one })))) : undefined;
          const value = m.value === null ? null : typeof m.value === 'string' ? Buffer.from(m.value) : m.value;
          try {
            this.producer.produce(topic, null, value, m.key ?? null, null, tracker, headers);
          } catch (e) {
            // Refused before it was queued (too large, queue full): the rest of the request is not sent.
            tracker.done(kafkaError(this.mod, e as LibrdKafkaError, `produce to ${topic}`));
          }
        }
      }
    });
  }

  private poll(): void {
    try {
      this.producer.poll();
    } catch {
      // not connected: the pending sends fail by their deadline
    }
  }

  private stopPolling(): void {
    clearInterval(this.polling);
    this.polling = undefined;
  }

  disconnect(): Promise<void> {
    return new Promise((resolve) => {
      this.stopPolling();
      this.producer.flush(5000, () => this.producer.disconnect(() => resolve()));
    });
  }
}

/** Counts a request's delivery reports; settles once all are in, with the first error if any. */
class Tracker {
  private error: Error | undefined;

  constructor(
    private remaining: number,
    private readonly settle: (e: Error | undefined) => void,
  ) {}

  get failed(): boolean {
    return this.error !== undefined;
  }

  done(e: Error | undefined): void {
    this.error ??= e;
    if (--this.remaining === 0) this.settle(this.error);
  }
}

/** Topic metadata through a producer connection; CreateTopics through librdkafka's admin client. */
class RdkafkaAdmin implements TopicAdmin {
  private readonly producer: Producer;

  constructor(
    private readonly mod: Module,
    private readonly common: Record<string, unknown>,
    private readonly timeoutMs: number,
  ) {
    // Auto-creation allowed: only autoCreate() names topics in a metadata request.
    this.producer = new mod.Producer({ ...common, 'allow.auto.create.topics': true });
  }

  connect(): Promise<void> {
    return connect(this.mod, this.producer, 'admin');
  }

  disconnect(): Promise<void> {
    return new Promise((resolve) => this.producer.disconnect(() => resolve()));
  }

  private metadata(topic?: string): Promise<{ topics: { name: string; partitions: unknown[] }[] }> {
    const options = topic ? { topic, timeout: this.timeoutMs } : { allTopics: true, timeout: this.timeoutMs };
    return new Promise((resolve, reject) => this.producer.getMetadata(options, (e, md) => (e ? reject(kafkaError(this.mod, e, 'metadata')) : resolve(md))));
  }

  async listTopics(): Promise<string[]> {
    return (await this.metadata()).topics.filter((t) => t.partitions.length > 0).map((t) => t.name);
  }

  async partitionCount(topic: string): Promise<number | undefined> {
    return (await this.metadata()).topics.find((t) => t.name === topic)?.partitions.length;
  }

  async createTopics(topics: readonly string[], partitions: number): Promise<void> {
    const admin = this.mod.AdminClient.create(this.common as never);
    try {
      for (const topic of topics) {
        await new Promise<void>((resolve, reject) =>
          admin.createTopic({ topic, num_partitions: partitions, replication_factor: -1 }, this.timeoutMs, (e) => (e && e.code !== 36 /* TOPIC_ALREADY_EXISTS */ ? reject(kafkaError(this.mod, e, `create topic ${topic}`)) : resolve())),
        );
      }
    } finally {
      admin.disconnect();
    }
  }

  async autoCreate(topics: readonly string[]): Promise<void> {
    for (const topic of topics) await this.metadata(topic).catch(() => undefined);
  }
}
