import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * The runtime's whole configuration: one typed object, read from environment variables
 * (seed-compatible names) with command-line flags taking precedence, validated once at
 * start. The README's configuration table lists the same entries.
 */
export interface Config {
  readonly brokers: string[];
  readonly clientId: string;
  /** The Kafka client `mlstream serve` runs on: kafkajs, or librdkafka (@confluentinc/kafka-javascript, built by scripts/kafka-native/build.sh). */
  readonly kafkaClient: 'kafkajs' | 'librdkafka';
  /** Who encodes the records `serve` produces on kafkajs: mlstream's one-buffer encoder (kafkajs-records.ts) or kafkajs's own. */
  readonly kafkajsRecordEncoder: 'mlstream' | 'kafkajs';
  /** Who reads `serve`'s responses off plain-text sockets on kafkajs: mlstream's reader (kafkajs-frames.ts), each response into one buffer, or kafkajs's own. */
  readonly kafkajsProduceEncoder: 'mlstream' | 'kafkajs';
  readonly kafkajsSocketReader: 'mlstream' | 'kafkajs';
  readonly textLoop: 'native' | 'js';
  readonly groupId: string;
  readonly inputTopic: string;
  readonly predictionsTopic: string;
  readonly errorsTopic: string;
  readonly fromBeginning: boolean;
  readonly modelsDir: string;
  readonly modelPipeline: string | undefined;
  /** What a record whose package is not loaded does: wait in Kafka (its partition pauses) or become a NO_MODEL error. */
  readonly noModelPolicy: 'wait' | 'error';
  readonly packageLoadTimeoutMs: number;
  /** /healthz fails once a slice has been in hand (processing, producing, sinking, committing) longer than this. */
  readonly healthStallMs: number;
  readonly plugins: string[];
  readonly httpPort: number | undefined;
  readonly logLevel: string;
  readonly maxMessageBytes: number;
  readonly errorRawMaxBytes: number;
  readonly partitionsConsumedConcurrently: number;
  /** Worker threads running decoding, validation, stages and output encoding; 0: all on the main thread. */
  readonly workers: number;
  /** The main thread runs a slice itself when its worker has one running and one waiting and its event loop was busy less than this share (0: never). */
  readonly mainShare: number;
  /** Records handed to the engine at once; each slice is produced and committed on its own. */
  readonly sliceSize: number;
  /** Bytes of record values in a slice at most (a bigger record is a slice of its own). */
  readonly sliceBytes: number;
  readonly slicesInFlight: number;
  /** Fetch a partition's next batch while its current one is worked on (kafkajs; librdkafka prefetches by itself). */
  readonly fetchAhead: boolean;
  readonly sessionTimeoutMs: number;
  readonly maxWaitTimeInMs: number;
  readonly deliveryTimeoutMs: number;
  readonly ssl: boolean | { ca?: string[]; cert?: string; key?: string; rejectUnauthorized: boolean };
  readonly sasl: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string } | undefined;
  /** PostgreSQL connection URL of the predictions sink; undefined: no sink. */
  readonly pgSinkUrl: string | undefined;
  /** The sink's table, optionally schema-qualified (`schema.table`). */
  readonly pgSinkTable: string;
  /** Bound on the sink's connect, lock wait and statement time. */
  readonly pgSinkTimeoutMs: number;
  /** What a sink write still failing at the delivery deadline does: pause the route, or exit 1. */
  readonly pgSinkOnDeadline: 'pause' | 'exit';
  /** Interface the HTTP server listens on. */
  readonly httpHost: string;
  /** Host header names HTTP answers besides IP literals and localhost (`*`: any). */
  readonly httpAllowedHosts: string[];
  /** Bearer token for every HTTP path but /healthz; undefined: none. */
  readonly httpToken: string | undefined;
  readonly httpMaxSseClients: number;
  /** Hosts a package's remote stage may call (`*`: any). */
  readonly remoteAllowedHosts: string[];
  /** An error record's value is at most this many bytes (its `raw` is cut to fit). */
  readonly errorRecordMaxBytes: number;
  /** A produce request carries at most this many bytes of record values and keys. */
  readonly maxRequestBytes: number;
}

export interface ConfigEntry {
  readonly env: string;
  readonly flag: string;
  readonly default: string | undefined;
  readonly help: string;
}

/** Every setting, in the order the README documents them. */
export const CONFIG_ENTRIES = {
  brokers: { env: 'KAFKA_BOOTSTRAP_SERVER', flag: 'bootstrap-server', default: 'localhost:9092', help: 'Kafka bootstrap servers, comma-separated' },
  clientId: { env: 'KAFKA_CLIENT_ID', flag: 'client-id', default: 'mlstream', help: 'Kafka client id' },
  kafkaClient: { env: 'KAFKA_CLIENT', flag: 'kafka-client', default: 'kafkajs', help: 'Kafka client of `serve`: kafkajs | librdkafka (@confluentinc/kafka-javascript built by scripts/kafka-native/build.sh)' },
  kafkajsRecordEncoder: { env: 'KAFKAJS_RECORD_ENCODER', flag: 'kafkajs-record-encoder', default: 'mlstream', help: 'who encodes the records `serve` produces on kafkajs: mlstream (the same bytes, one buffer per record) | kafkajs (its own encoder)' },
  kafkajsProduceEncoder: { env: 'KAFKAJS_PRODUCE_ENCODER', flag: 'kafkajs-produce-encoder', default: 'mlstream', help: 'who writes the produce requests `serve` sends on kafkajs: mlstream (the same bytes, each request in one buffer, its messages grouped by partition in linear time) | kafkajs (its own)' },
  kafkajsSocketReader: { env: 'KAFKAJS_SOCKET_READER', flag: 'kafkajs-socket-reader', default: 'mlstream', help: 'who reads the responses `serve` gets on kafkajs: mlstream (each response read into one buffer of its size) | kafkajs (its own reader, which joins 64 KiB chunks)' },
  textLoop: { env: 'MLSTREAM_TEXT_LOOP', flag: 'text-loop', default: 'native', help: 'the token loop of fused text stages reading JSON records: native (C, compiled by npm run build; TypeScript where it is not built) | js (TypeScript)' },
  groupId: { env: 'KAFKA_GROUP_ID', flag: 'group-id', default: 'mlstream', help: 'consumer group id (instances with the same id share partitions)' },
  inputTopic: { env: 'KAFKA_INCOMING_MSG_TOPIC', flag: 'input-topic', default: 'messages', help: 'topic records are read from' },
  predictionsTopic: { env: 'KAFKA_PREDICTIONS_TOPIC', flag: 'predictions-topic', default: 'predictions', help: 'topic predictions are written to' },
  errorsTopic: { env: 'KAFKA_ERRORS_TOPIC', flag: 'errors-topic', default: 'errors', help: 'topic error records are written to' },
  startingOffset: { env: 'KAFKA_STARTING_OFFSET', flag: 'starting-offset', default: 'earliest', help: 'where a new consumer group starts: earliest | latest' },
  modelsDir: { env: 'MODELS_DIR', flag: 'models-dir', default: './model-packages', help: 'folder holding model package folders' },
  modelPipeline: { env: 'MODEL_PIPELINE', flag: 'model', default: undefined, help: 'the default package: serves records that name none (no mlstream-model header, default input topic); unset, the only package not bound to a topic. Every package serves by header or topic either way' },
  noModelPolicy: { env: 'NO_MODEL_POLICY', flag: 'no-model-policy', default: 'wait', help: 'a record whose package is not loaded: wait (its partition pauses, nothing is committed, it resumes when the package loads) | error (a NO_MODEL error record)' },
  packageLoadTimeoutMs: { env: 'PACKAGE_LOAD_TIMEOUT_MS', flag: 'package-load-timeout-ms', default: '120000', help: 'longest one package version may take to load before it is refused; packages load in the background' },
  healthStallMs: { env: 'HEALTH_STALL_MS', flag: 'health-stall-ms', default: '300000', help: '/healthz fails once a slice has been in hand longer than this (a stuck sink or broker)' },
  plugins: { env: 'MLSTREAM_PLUGINS', flag: 'plugin', default: undefined, help: 'plugin module(s) adding stage classes: paths or package names, comma-separated (the flag may repeat)' },
  httpPort: { env: 'HTTP_PORT', flag: 'http-port', default: undefined, help: 'port for /healthz, /status, /metrics and the live dashboard at / (unset: no HTTP server)' },
  logLevel: { env: 'LOG_LEVEL', flag: 'log-level', default: 'info', help: 'pino log level: fatal | error | warn | info | debug | trace' },
  maxMessageBytes: { env: 'MAX_MESSAGE_BYTES', flag: 'max-message-bytes', default: '1048576', help: 'input messages larger than this go to errors as MESSAGE_TOO_LARGE' },
  errorRawMaxBytes: { env: 'ERROR_RAW_MAX_BYTES', flag: 'error-raw-max-bytes', default: '4096', help: 'raw input kept in an error record is truncated to this many bytes' },
  partitionsConsumedConcurrently: { env: 'KAFKA_PARTITIONS_CONCURRENTLY', flag: 'partitions-concurrently', default: undefined, help: 'partitions processed at the same time (unset: the larger of 4 and workers + 1, so no fetched partition waits for the others\' round trips)' },
  workers: { env: 'MLSTREAM_WORKERS', flag: 'workers', default: undefined, help: 'worker threads running decoding, validation, the stages and output encoding (unset: cores − 1, at least 1; 0: all on the main thread)' },
  mainShare: { env: 'MLSTREAM_MAIN_SHARE', flag: 'main-share', default: '0.75', help: 'the main thread also runs a slice when every worker holding its version has one running and one waiting, and the main thread was busy less than this share of the last 100 ms (0: never; 1: whenever the workers have a queue)' },
  fetchAhead: { env: 'KAFKA_FETCH_AHEAD', flag: 'fetch-ahead', default: 'true', help: 'kafkajs fetches a partition\'s next batch while its current one is worked on, once the partition is behind (at most two batches of 512 KiB per partition in hand): true | false (false: one batch of 1 MiB, fetched once every partition\'s batch is done)' },
  sliceSize: { env: 'SLICE_SIZE', flag: 'slice-size', default: '1000', help: 'records run through the model at once at most; outputs are produced and offsets committed per slice, heartbeats go between slices' },
  sliceBytes: { env: 'SLICE_BYTES', flag: 'slice-bytes', default: '524288', help: 'bytes of record values in a slice at most, whichever of SLICE_SIZE and this comes first (a bigger record is a slice of its own)' },
  slicesInFlight: { env: 'SLICES_IN_FLIGHT', flag: 'slices-in-flight', default: '1', help: 'per partition, slices whose outputs may be produced before the oldest of them is committed; offsets are still committed in order, each after its own and every earlier slice\'s outputs are acknowledged (1: each slice committed before the next one\'s outputs are produced; 2 or more, for a broker milliseconds away: fewer round trips waited for, but a crash repeats up to this many slices per partition and a retried produce can put a slice\'s outputs after the next one\'s)' },
  sessionTimeoutMs: { env: 'KAFKA_SESSION_TIMEOUT_MS', flag: 'session-timeout-ms', default: '30000', help: 'consumer group session timeout' },
  maxWaitTimeInMs: { env: 'KAFKA_MAX_WAIT_MS', flag: 'max-wait-ms', default: '1000', help: 'longest a fetch waits for data' },
  deliveryTimeoutMs: { env: 'KAFKA_DELIVERY_TIMEOUT_MS', flag: 'delivery-timeout-ms', default: '60000', help: 'longest producing a slice\'s outputs (and then committing it) may take before the runtime exits 1' },
  ssl: { env: 'KAFKA_SSL', flag: 'ssl', default: 'false', help: 'use TLS to the brokers: true | false' },
  sslCaFile: { env: 'KAFKA_SSL_CA_FILE', flag: 'ssl-ca-file', default: undefined, help: 'PEM file of CA certificates to trust' },
  sslCertFile: { env: 'KAFKA_SSL_CERT_FILE', flag: 'ssl-cert-file', default: undefined, help: 'PEM client certificate (mutual TLS)' },
  sslKeyFile: { env: 'KAFKA_SSL_KEY_FILE', flag: 'ssl-key-file', default: undefined, help: 'PEM client key (mutual TLS)' },
  sslRejectUnauthorized: { env: 'KAFKA_SSL_REJECT_UNAUTHORIZED', flag: 'ssl-reject-unauthorized', default: 'true', help: 'verify broker certificates' },
  saslMechanism: { env: 'KAFKA_SASL_MECHANISM', flag: 'sasl-mechanism', default: undefined, help: 'plain | scram-sha-256 | scram-sha-512' },
  saslUsername: { env: 'KAFKA_SASL_USERNAME', flag: 'sasl-username', default: undefined, help: 'SASL user name' },
  saslPassword: { env: 'KAFKA_SASL_PASSWORD', flag: 'sasl-password', default: undefined, help: 'SASL password' },
  pgSinkUrl: { env: 'PG_SINK_URL', flag: 'sink', default: undefined, help: 'postgres://… URL: also write every prediction as a row to PostgreSQL (unset: no sink)' },
  pgSinkTable: { env: 'PG_SINK_TABLE', flag: 'sink-table', default: 'mlstream_predictions', help: 'table of the PostgreSQL sink (created if missing), optionally schema.table' },
  pgSinkTimeoutMs: { env: 'PG_SINK_TIMEOUT_MS', flag: 'sink-timeout-ms', default: '10000', help: 'the sink\'s connect, lock wait and statement timeout' },
  pgSinkOnDeadline: { env: 'PG_SINK_ON_DEADLINE', flag: 'sink-on-deadline', default: 'pause', help: 'a slice the sink cannot write within the delivery timeout: pause (stay uncommitted, retry later) | exit' },
  httpHost: { env: 'HTTP_HOST', flag: 'http-host', default: '127.0.0.1', help: 'interface the HTTP server listens on (0.0.0.0: all)' },
  httpAllowedHosts: { env: 'HTTP_ALLOWED_HOSTS', flag: 'http-allowed-hosts', default: undefined, help: 'host names HTTP requests may use besides IP literals and localhost, comma-separated (* : any)' },
  httpToken: { env: 'HTTP_TOKEN', flag: 'http-token', default: undefined, help: 'bearer token required on every HTTP path but /healthz' },
  httpMaxSseClients: { env: 'HTTP_MAX_SSE_CLIENTS', flag: 'http-max-sse-clients', default: '32', help: 'open dashboard event streams at most (more get 429)' },
  remoteAllowedHosts: { env: 'REMOTE_ALLOWED_HOSTS', flag: 'remote-allowed-hosts', default: 'localhost,127.0.0.1,::1', help: 'hosts a package\'s remote model stage may call, comma-separated (* : any)' },
  errorRecordMaxBytes: { env: 'ERROR_RECORD_MAX_BYTES', flag: 'error-record-max-bytes', default: '16384', help: 'largest error record value; its raw input is cut to fit' },
  maxRequestBytes: { env: 'KAFKA_MAX_REQUEST_BYTES', flag: 'max-request-bytes', default: '900000', help: 'largest produce request (record keys and values); a slice\'s outputs are split to stay under it' },
} satisfies Record<string, ConfigEntry>;

export type ConfigKey = keyof typeof CONFIG_ENTRIES;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Flags (already parsed, keyed like CONFIG_ENTRIES) win over the environment, which wins over defaults. */
export function loadConfig(flags: Partial<Record<ConfigKey, string>>, env: NodeJS.ProcessEnv = process.env): Config {
  const raw = (key: ConfigKey): string | undefined => {
    const e = CONFIG_ENTRIES[key];
    const v = flags[key] ?? env[e.env] ?? e.default;
    return v === '' ? undefined : v;
  };
  const required = (key: ConfigKey): string => {
    const v = raw(key);
    if (v === undefined) throw new ConfigError(`${describe(key)} must be set`);
    return v;
  };
  const int = (key: ConfigKey, min: number, max: number): number => {
    const s = required(key);
    const n = Number(s);
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${describe(key)} must be an integer in [${min}, ${max}], got "${s}"`);
    return n;
  };
  const share = (key: ConfigKey): number => {
    const s = required(key);
    const n = Number(s);
    if (s.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new ConfigError(`${describe(key)} must be a number in [0, 1], got "${s}"`);
    return n;
  };
  /** One of a few words, said back in the error as "must be a, b or c". */
  const choice = <T extends string>(key: ConfigKey, options: readonly T[]): T => {
    const v = required(key);
    if (!(options as readonly string[]).includes(v)) throw new ConfigError(`${describe(key)} must be ${options.slice(0, -1).join(', ')} or ${options.at(-1)}, got "${v}"`);
    return v as T;
  };
  const bool = (key: ConfigKey): boolean => {
    const s = required(key).toLowerCase();
    if (s === 'true' || s === '1' || s === 'yes') return true;
    if (s === 'false' || s === '0' || s === 'no') return false;
    throw new ConfigError(`${describe(key)} must be true or false, got "${s}"`);
  };

  const startingOffset = choice('startingOffset', ['earliest', 'latest']);
  const httpPort = raw('httpPort') === undefined ? undefined : int('httpPort', 0, 65535);
  const workers = raw('workers') === undefined ? Math.max(1, availableParallelism() - 1) : int('workers', 0, 256);
  const noModelPolicy = choice('noModelPolicy', ['wait', 'error']);
  const topics = ['inputTopic', 'predictionsTopic', 'errorsTopic'] as const;
  for (const t of topics) {
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(required(t))) throw new ConfigError(`${describe(t)} is not a valid Kafka topic name`);
  }
  if (new Set(topics.map((t) => required(t))).size !== topics.length) {
    throw new ConfigError('the input, predictions and errors topics must be three different topics');
  }
  const kafkaClient = choice('kafkaClient', ['kafkajs', 'librdkafka']);
  const kafkajsRecordEncoder = choice('kafkajsRecordEncoder', ['mlstream', 'kafkajs']);
  const kafkajsProduceEncoder = choice('kafkajsProduceEncoder', ['mlstream', 'kafkajs']);
  const kafkajsSocketReader = choice('kafkajsSocketReader', ['mlstream', 'kafkajs']);
  const textLoop = choice('textLoop', ['native', 'js']);
  const brokers = required('brokers').split(',').map((b) => b.trim()).filter(Boolean);
  for (const b of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(b)) throw new ConfigError(`${describe('brokers')}: "${b}" is not host:port`);
  }
  return {
    brokers,
    clientId: required('clientId'),
    kafkaClient,
    kafkajsRecordEncoder,
    kafkajsProduceEncoder,
    kafkajsSocketReader,
    textLoop,
    groupId: required('groupId'),
    inputTopic: required('inputTopic'),
    predictionsTopic: required('predictionsTopic'),
    errorsTopic: required('errorsTopic'),
    fromBeginning: startingOffset === 'earliest',
    modelsDir: required('modelsDir'),
    modelPipeline: raw('modelPipeline'),
    noModelPolicy,
    packageLoadTimeoutMs: int('packageLoadTimeoutMs', 100, 3_600_000),
    healthStallMs: int('healthStallMs', 1000, 86_400_000),
    plugins: (raw('plugins') ?? '').split(',').map((p) => p.trim()).filter(Boolean),
    httpPort,
    logLevel: required('logLevel'),
    maxMessageBytes: int('maxMessageBytes', 1, 100 * 1024 * 1024),
    errorRawMaxBytes: int('errorRawMaxBytes', 0, 1024 * 1024),
    // Measured by `npm run bench` (docs/performance.md): at 2,000 records/s over 4 partitions, one or two at a time fell behind, four kept up.
    partitionsConsumedConcurrently: raw('partitionsConsumedConcurrently') === undefined ? Math.max(4, workers + 1) : int('partitionsConsumedConcurrently', 1, 1024),
    workers,
    mainShare: share('mainShare'),
    sliceSize: int('sliceSize', 1, 100_000),
    sliceBytes: int('sliceBytes', 1024, 64 * 1024 * 1024),
    slicesInFlight: int('slicesInFlight', 1, 16),
    fetchAhead: bool('fetchAhead'),
    sessionTimeoutMs: int('sessionTimeoutMs', 1000, 3_600_000),
    maxWaitTimeInMs: int('maxWaitTimeInMs', 0, 60_000),
    deliveryTimeoutMs: int('deliveryTimeoutMs', 1000, 3_600_000),
    ssl: sslConfig(bool('ssl'), raw, bool),
    sasl: saslConfig(raw),
    ...sinkConfig(raw, required),
    ...hardeningConfig(raw, required, int, choice),
  };
}

function describe(key: ConfigKey): string {
  const e = CONFIG_ENTRIES[key];
  return `${e.env} (--${e.flag})`;
}

function sslConfig(enabled: boolean, raw: (k: ConfigKey) => string | undefined, bool: (k: ConfigKey) => boolean): Config['ssl'] {
  if (!enabled) return false;
  const read = (key: ConfigKey): string | undefined => {
    const file = raw(key);
    if (file === undefined) return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`${describe(key)}: cannot read ${file} (${(e as Error).message})`);
    }
  };
  const ca = read('sslCaFile');
  const cert = read('sslCertFile');
  const key = read('sslKeyFile');
  if (!ca && !cert && !key && bool('sslRejectUnauthorized')) return true;
  return { ...(ca ? { ca: [ca] } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), rejectUnauthorized: bool('sslRejectUnauthorized') };
}

function saslConfig(raw: (k: ConfigKey) => string | undefined): Config['sasl'] {
  const mechanism = raw('saslMechanism')?.toLowerCase();
  if (mechanism === undefined) return undefined;
  if (mechanism !== 'plain' && mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512') {
    throw new ConfigError(`${describe('saslMechanism')} must be plain, scram-sha-256 or scram-sha-512, got "${mechanism}"`);
  }
  const username = raw('saslUsername');
  const password = raw('saslPassword');
  if (username === undefined || password === undefined) {
    throw new ConfigError(`SASL needs ${describe('saslUsername')} and ${describe('saslPassword')}`);
  }
  return { mechanism, username, password };
}

/** A table name the sink can quote safely: `table` or `schema.table`, plain identifiers only. */
export const SINK_TABLE_PATTERN = /^(?:[A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function sinkConfig(raw: (k: ConfigKey) => string | undefined, required: (k: ConfigKey) => string): Pick<Config, 'pgSinkUrl' | 'pgSinkTable'> {
  const url = raw('pgSinkUrl');
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) {
    throw new ConfigError(`${describe('pgSinkUrl')} must be a postgres:// or postgresql:// URL`);
  }
  const table = required('pgSinkTable');
  if (!SINK_TABLE_PATTERN.test(table)) {
    throw new ConfigError(`${describe('pgSinkTable')} must be an identifier (letters, digits, _; optionally schema.table), got "${table}"`);
  }
  return { pgSinkUrl: url, pgSinkTable: table };
}

const list = (v: string | undefined): string[] => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);

/** The limits of docs/security.md: sink timeouts, HTTP exposure, remote hosts, output sizes. */
function hardeningConfig(
  raw: (k: ConfigKey) => string | undefined,
  required: (k: ConfigKey) => string,
  int: (k: ConfigKey, min: number, max: number) => number,
  choice: <T extends string>(k: ConfigKey, options: readonly T[]) => T,
): Pick<Config, 'pgSinkTimeoutMs' | 'pgSinkOnDeadline' | 'httpHost' | 'httpAllowedHosts' | 'httpToken' | 'httpMaxSseClients' | 'remoteAllowedHosts' | 'errorRecordMaxBytes' | 'maxRequestBytes'> {
  return {
    pgSinkTimeoutMs: int('pgSinkTimeoutMs', 100, 3_600_000),
    pgSinkOnDeadline: choice('pgSinkOnDeadline', ['pause', 'exit']),
    httpHost: required('httpHost'),
    httpAllowedHosts: list(raw('httpAllowedHosts')),
    httpToken: raw('httpToken'),
    httpMaxSseClients: int('httpMaxSseClients', 0, 10_000),
    remoteAllowedHosts: list(raw('remoteAllowedHosts')),
    errorRecordMaxBytes: int('errorRecordMaxBytes', 1024, 100 * 1024 * 1024),
    maxRequestBytes: int('maxRequestBytes', 16 * 1024, 100 * 1024 * 1024),
  };
}
