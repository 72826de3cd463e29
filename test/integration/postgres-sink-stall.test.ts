import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { skipWithoutFixtures } from '../helpers/fixtures.js';
import { irisRecords, toKafkaMessages } from '../helpers/iris.js';
import { collectUntil, produceAll } from '../helpers/kafka.js';
import { skipWithoutPostgres, testDatabaseUrl, uniqueTableName, withClient } from '../helpers/postgres.js';
import { irisRig } from '../helpers/served-iris.js';
import { quoteTableName } from '../../runtime/sinks/postgres.js';
import pg from 'pg';

/**
 * A stalled PostgreSQL sink seen through `mlstream serve` with a stream: a table locked for
 * seconds, the database unreachable past the delivery timeout. The insert is retried alone —
 * the slice's predictions are produced once, the consumer never restarts — and the
 * configured deadline policy either pauses the partition or exits 1 for a restart.
 */
const skip = skipWithoutFixtures || (await skipWithoutPostgres());

/** A TCP relay to the test database that the test can cut and restore, as a network outage would. */
class PgRelay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async up(): Promise<void> {
    const target = new URL(testDatabaseUrl());
    this.server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  url(): string {
    const u = new URL(testDatabaseUrl());
    u.host = `127.0.0.1:${this.port}`;
    return u.toString();
  }
}

async function rowCount(table: string): Promise<number> {
  return withClient(async (c) => Number((await c.query(`SELECT count(*)::int AS n FROM ${quoteTableName(table)}`)).rows[0].n));
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

function dropTableAfter(t: TestContext, table: string): void {
  t.after(() => withClient((c) => c.query(`DROP TABLE IF EXISTS ${quoteTableName(table)}`)).then(() => undefined));
}

// Read only when the fixtures are there (the tests skip otherwise).
const INPUTS = skipWithoutFixtures ? [] : irisRecords(3);

test('a table locked for 4 s: the insert times out and is retried alone; 3 inputs give 3 predictions and 3 rows, no consumer restart', { skip, timeout: 120_000 }, async (t) => {
  const table = uniqueTableName('sink_lock');
  const locker = new pg.Client({ connectionString: testDatabaseUrl() });
  await locker.connect();
  t.after(() => locker.end());
  dropTableAfter(t, table);
  const rig = await irisRig(t, 'sink-lock');
  const runtime = rig.start({ PG_SINK_URL: testDatabaseUrl(), PG_SINK_TABLE: table, PG_SINK_TIMEOUT_MS: '500' });
  await runtime.waitForLog((l) => l.msg === 'postgres sink ready', 60_000);
  await runtime.waitForLog((l) => l.msg === 'consuming', 60_000);

  await locker.query('BEGIN');
  await locker.query(`LOCK TABLE ${quoteTableName(table)} IN ACCESS EXCLUSIVE MODE`);
  await produceAll(rig.boot, 'messages', toKafkaMessages(INPUTS));
  const failed = await runtime.waitForLog((l) => l.msg === 'postgres sink: insert failed; the slice is not committed and will be retried', 30_000);
  assert.match(String(failed.reason), /55P03|57014/, "lock_timeout or statement_timeout ended the wait");
  await new Promise((r) => setTimeout(r, 4000));
  await locker.query('COMMIT');

  await waitFor('3 rows', async () => (await rowCount(table)) === 3, 30_000);
  const seen = await collectUntil(rig.boot, ['predictions', 'errors'], (s) => s.length >= 3, 20_000);
  await new Promise((r) => setTimeout(r, 1500));
  const again = await collectUntil(rig.boot, ['predictions', 'errors'], () => false, 3000);
  assert.equal(seen.filter((m) => m.topic === 'predictions').length, 3);
  assert.equal(again.length, 3, 'each input answered exactly once on the topics');
  assert.ok(!runtime.logs.some((l) => /consumer crashed/.test(l)), 'no consumer restart');
  assert.equal(await runtime.stop(), 0);
});

test('PostgreSQL unreachable past the delivery timeout: the partition pauses, nothing is re-produced, and the slice lands once it is back', { skip, timeout: 120_000 }, async (t) => {
  const table = uniqueTableName('sink_pause');
  dropTableAfter(t, table);
  const relay = new PgRelay();
  await relay.up();
  t.after(() => relay.down());
  const rig = await irisRig(t, 'sink-pause');
  const runtime = rig.start({ PG_SINK_URL: relay.url(), PG_SINK_TABLE: table, PG_SINK_TIMEOUT_MS: '500', KAFKA_DELIVERY_TIMEOUT_MS: '2000' });
  await runtime.waitForLog((l) => l.msg === 'postgres sink ready', 60_000);
  await runtime.waitForLog((l) => l.msg === 'consuming', 60_000);

  await relay.down();
  await produceAll(rig.boot, 'messages', toKafkaMessages(INPUTS));
  await runtime.waitForLog((l) => String(l.msg).startsWith('postgres sink: past the delivery timeout; the partition is paused'), 30_000);
  await new Promise((r) => setTimeout(r, 6000));
  assert.equal(runtime.child.exitCode, null, 'still running while paused');
  await relay.up();

  await runtime.waitForLog((l) => l.msg === 'postgres sink: slice written after retrying' && l.wasPaused === true, 30_000);
  await waitFor('3 rows', async () => (await rowCount(table)) === 3, 10_000);
  const seen = await collectUntil(rig.boot, ['predictions', 'errors'], () => false, 3000);
  assert.deepEqual(seen.map((m) => m.key).sort(), INPUTS.map((r) => r.id).sort(), 'each input answered exactly once');
  assert.ok(!runtime.logs.some((l) => /consumer crashed/.test(l)), 'no consumer restart');
  assert.equal(await runtime.stop(), 0);
});

test('with PG_SINK_ON_DEADLINE=exit the runtime exits 1 at the deadline with the slice uncommitted, and a restart stores every record', { skip, timeout: 120_000 }, async (t) => {
  const table = uniqueTableName('sink_exit');
  dropTableAfter(t, table);
  const relay = new PgRelay();
  await relay.up();
  t.after(() => relay.down());
  const rig = await irisRig(t, 'sink-exit');
  const env = { PG_SINK_URL: relay.url(), PG_SINK_TABLE: table, PG_SINK_TIMEOUT_MS: '500', KAFKA_DELIVERY_TIMEOUT_MS: '2000', PG_SINK_ON_DEADLINE: 'exit' };
  const first = rig.start(env);
  await first.waitForLog((l) => l.msg === 'consuming', 60_000);
  await relay.down();
  await produceAll(rig.boot, 'messages', toKafkaMessages(INPUTS));
  assert.equal(await first.exited(), 1);
  assert.ok(first.logs.some((l) => /was not written to PostgreSQL within the delivery timeout/.test(l)), 'the fatal line names the sink');
  assert.equal(first.logs.filter((l) => /"msg":"outputs delivered/.test(l)).length, 0);

  await relay.up();
  const second = rig.start(env);
  await waitFor('3 rows after the restart', async () => (await rowCount(table).catch(() => 0)) === 3, 60_000);
  const seen = await collectUntil(rig.boot, ['predictions'], () => false, 3000);
  const perId = new Map<string, number>();
  for (const m of seen) perId.set(m.key!, (perId.get(m.key!) ?? 0) + 1);
  for (const r of INPUTS) assert.ok((perId.get(r.id) ?? 0) >= 1 && (perId.get(r.id) ?? 0) <= 2, `${r.id} answered ${perId.get(r.id)} times: once per run at most`);
  assert.equal(await second.stop(), 0);
});
