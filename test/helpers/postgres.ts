import { userInfo } from 'node:os';
import pg from 'pg';

/**
 * The test database: the usual PG* variables, defaulting to the local server these
 * machines run (127.0.0.1:5432, database `test`, the OS user with trust auth).
 */
export function testDatabaseUrl(): string {
  const env = process.env;
  const user = env.PGUSER || env.USER || userInfo().username;
  const password = env.PGPASSWORD ? `:${encodeURIComponent(env.PGPASSWORD)}` : '';
  const host = env.PGHOST || '127.0.0.1';
  const port = env.PGPORT || '5432';
  const database = env.PGDATABASE || 'test';
  return `postgres://${encodeURIComponent(user)}${password}@${host}:${port}/${encodeURIComponent(database)}`;
}

/** A reason to skip when no PostgreSQL answers, or false. */
export async function skipWithoutPostgres(): Promise<string | false> {
  const client = new pg.Client({ connectionString: testDatabaseUrl(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return false;
  } catch (e) {
    return `no PostgreSQL at ${testDatabaseUrl().replace(/:[^:@/]*@/, ':***@')} (${(e as Error).message}); set PGHOST/PGPORT/PGUSER/PGDATABASE`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A table name no other test (or concurrent run) uses. */
export function uniqueTableName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
}

export async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
