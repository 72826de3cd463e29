import type pg from 'pg';
import { SINK_TABLE_PATTERN } from '../config.js';
import type { PredictionRecord } from '../engine/messages.js';
import type { Logger } from '../log.js';
import { retrySinkWrite, type DeadlinePolicy } from './sink-retry.js';

/**
 * The table's columns, in insert order. `received_at` is not inserted: the database sets
 * it to the transaction time, i.e. when the runtime handled the record's slice.
 */
export const SINK_COLUMNS = [
  'source_topic',
  'source_partition',
  'source_offset',
  'id',
  'model',
  'version',
  'label',
  'raw_prediction',
  'probabilities',
  'input',
  'output',
  'produced_at',
  'received_at',
] as const;

/** Quotes a validated `table` or `schema.table`; anything else is refused, never escaped. */
export function quoteTableName(name: string): string {
  if (!SINK_TABLE_PATTERN.test(name)) throw new Error(`"${name}" is not a plain identifier (letters, digits, _; optionally schema.table)`);
  return name
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');
}

function createTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
  source_topic     text             NOT NULL,
  source_partition integer          NOT NULL,
  source_offset    bigint           NOT NULL,
  id               text,
  model            text             NOT NULL,
  version          text             NOT NULL,
  label            text,
  raw_prediction   double precision,
  probabilities    jsonb,
  input            jsonb            NOT NULL,
  output           jsonb            NOT NULL,
  produced_at      timestamptz,
  received_at      timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (source_topic, source_partition, source_offset)
)`;
}

/**
 * One statement for a whole slice whatever its size: each column travels as one array
 * parameter and unnest() turns them back into rows, so the text never changes (it is
 * prepared once per connection) and the parameter count never nears PostgreSQL's limit.
 */
function insertSql(table: string): string {
  return `INSERT INTO ${table} (${SINK_COLUMNS.slice(0, -1).join(', ')})
SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::double precision[], $9::jsonb[], $10::jsonb[], $11::jsonb[], $12::timestamptz[])
ON CONFLICT (source_topic, source_partition, source_offset) DO NOTHING`;
}

/** SQLSTATEs of a concurrent CREATE TABLE IF NOT EXISTS losing the race to another instance. */
const CREATE_RACE_CODES = new Set(['23505', '42P07']);

export interface SinkWriteResult {
  /** Rows added; fewer than records when a replay hit offsets already stored. */
  readonly inserted: number;
}

/**
 * Predictions into PostgreSQL. Only predictions are stored: error records stay on the
 * errors topic, which already carries everything about them. Idempotent on the input's
 * (topic, partition, offset), so a slice replayed after a crash adds no rows.
 */
export interface SinkOptions {
  /** Bound on connecting, waiting for a lock and running a statement. */
  readonly timeoutMs: number;
  /** A write still failing at its slice's delivery deadline: keep retrying slowly, or give up. */
  readonly onDeadline: DeadlinePolicy;
  /** Deadline used when the caller gives none. */
  readonly defaultDeadlineMs: number;
}

const DEFAULT_OPTIONS: SinkOptions = { timeoutMs: 10_000, onDeadline: 'pause', defaultDeadlineMs: 60_000 };

export class PostgresSink {
  private readonly insert: string;
  private readonly statementName: string;
  private stopping = false;
  private interrupt!: () => void;
  private readonly interrupted = new Promise<void>((resolve) => (this.interrupt = resolve));

  private constructor(
    private readonly pool: pg.Pool,
    readonly table: string,
    private readonly log: Logger,
    private readonly options: SinkOptions,
  ) {
    const quoted = quoteTableName(table);
    this.insert = insertSql(quoted);
    this.statementName = `mlstream-sink-${table}`;
  }

  /** Connects and creates the table if it is missing; rejects with the server's reason. */
  static async open(url: string, table: string, log: Logger, maxConnections = 4, options: Partial<SinkOptions> = {}): Promise<PostgresSink> {
    const o = { ...DEFAULT_OPTIONS, ...options };
    // Imported here, not at the top: pg takes a third of a second to load, and most runtimes have no sink.
    const { default: postgres } = await import('pg');
    const pool = new postgres.Pool({
      connectionString: url,
      max: maxConnections,
      application_name: 'mlstream',
      connectionTimeoutMillis: o.timeoutMs,
      // Server side: a locked table or a stuck statement fails the insert instead of holding the slice unseen.
      statement_timeout: o.timeoutMs,
      lock_timeout: o.timeoutMs,
      idle_in_transaction_session_timeout: o.timeoutMs,
      // Client side: a server that stops answering altogether (a dropped network) fails it too.
      query_timeout: o.timeoutMs + 1000,
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', (e) => log.warn({ err: e }, 'postgres sink: idle connection failed'));
    const sink = new PostgresSink(pool, table, log, o);
    try {
      await sink.createTable();
    } catch (e) {
      await pool.end();
      throw e;
    }
    return sink;
  }

  private async createTable(): Promise<void> {
    const quoted = quoteTableName(this.table);
    // Dashboards read the newest rows and time ranges; the index keeps that cheap as the table grows.
    const index = `"${this.table.split('.').pop()!.slice(0, 50)}_received_at"`;
    try {
      await this.pool.query(createTableSql(quoted));
      await this.pool.query(`CREATE INDEX IF NOT EXISTS ${index} ON ${quoted} (received_at)`);
    } catch (e) {
      if (!CREATE_RACE_CODES.has((e as { code?: string }).code ?? '')) throw e;
    }
    this.log.info({ table: this.table }, 'postgres sink ready');
  }

  /**
   * Writes a slice's predictions as one INSERT. A single statement is its own transaction
   * in PostgreSQL, so when this resolves the rows are committed; the runner commits the
   * Kafka offsets only after that. A failed insert is retried here, alone (sink-retry.ts),
   * until `deadlineAt` (the slice's delivery deadline) and then per the deadline policy;
   * it rejects with a SinkError only when giving up.
   */
  async write(records: readonly PredictionRecord[], deadlineAt = Date.now() + this.options.defaultDeadlineMs, what = 'a slice'): Promise<SinkWriteResult> {
    if (records.length === 0) return { inserted: 0 };
    const values = columnsOf(records);
    return retrySinkWrite(
      async () => {
        const res = await this.pool.query({ name: this.statementName, text: this.insert, values });
        return { inserted: res.rowCount ?? 0 };
      },
      { deadlineAt, onDeadline: this.options.onDeadline, what, log: this.log, stopping: () => this.stopping, interrupted: this.interrupted },
    );
  }

  /** The runtime is stopping: a write being retried gives up at once (its slice stays uncommitted). */
  stopRetrying(): void {
    this.stopping = true;
    this.interrupt();
  }

  async close(): Promise<void> {
    this.stopRetrying();
    await this.pool.end();
  }
}

function columnsOf(records: readonly PredictionRecord[]): unknown[][] {
  const n = records.length;
  const cols = Array.from({ length: 12 }, () => new Array<unknown>(n));
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    cols[0]![i] = text(r.source.topic);
    cols[1]![i] = r.source.partition;
    cols[2]![i] = r.source.offset;
    cols[3]![i] = typeof r.id === 'string' || typeof r.id === 'number' ? text(String(r.id)) : null;
    cols[4]![i] = text(r.model);
    cols[5]![i] = text(r.version);
    cols[6]![i] = r.prediction === null || r.prediction === undefined ? null : text(typeof r.prediction === 'object' ? JSON.stringify(r.prediction) : String(r.prediction));
    cols[7]![i] = r.rawPrediction;
    cols[8]![i] = r.probability ? json(r.probability) : null;
    cols[9]![i] = json(r.input);
    cols[10]![i] = json(r.body);
    cols[11]![i] = r.timestamp ? new Date(Number(r.timestamp)).toISOString() : null;
  }
  return cols;
}

const LONE_SURROGATE_SOURCE = '[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]';
const HAS_LONE_SURROGATE = new RegExp(LONE_SURROGATE_SOURCE);
const LONE_SURROGATES = new RegExp(LONE_SURROGATE_SOURCE, 'g');
const UNSTORABLE_ESCAPE = /\\u(?:0000|d[89a-f])/i;

/**
 * PostgreSQL's text and jsonb refuse NUL and lone UTF-16 surrogates; a record holding one
 * would fail its slice on every retry, so such characters become U+FFFD instead.
 */
function text(s: string): string {
  return s.includes('\0') || HAS_LONE_SURROGATE.test(s) ? cleanString(s) : s;
}

function cleanString(s: string): string {
  return s.replaceAll('\0', '\ufffd').replace(LONE_SURROGATES, '\ufffd');
}

function json(value: unknown): string {
  const s = JSON.stringify(value);
  return UNSTORABLE_ESCAPE.test(s) ? JSON.stringify(value, cleanJsonValue) : s;
}

function cleanJsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return cleanString(value);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[cleanString(k)] = v;
    return out;
  }
  return value;
}
