import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { skipWithoutFixtures } from '../helpers/fixtures.js';
import { irisRig } from '../helpers/served-iris.js';

/**
 * The HTTP surface of `mlstream serve` as an attacker on the network or in a browser sees
 * it: loopback only by default, DNS-rebinding Host names refused, an optional bearer token,
 * a cap on dashboard event streams, and no absolute paths in /status.
 */
const skip = skipWithoutFixtures;

interface Reply {
  readonly status: number;
  readonly body: string;
}

/** One GET with the given headers (node:http: fetch may not set Host); event streams are read until their first event. */
function get(port: number, path: string, headers: Record<string, string> = {}, address = '127.0.0.1'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (res.headers['content-type'] === 'text/event-stream' && body.includes('\n\n')) resolve({ status: res.statusCode!, body });
      });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function nonLoopbackAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

test('by default HTTP listens on loopback only and refuses Host names it was not told about, except on /healthz', { skip, timeout: 120_000 }, async (t) => {
  const rig = await irisRig(t, 'http-default');
  const runtime = rig.start({ HTTP_PORT: '0' });
  const listening = (await runtime.waitForLog((l) => l.msg === 'http listening', 60_000)) as { port: number; host: string };
  assert.equal(listening.host, '127.0.0.1');
  const other = nonLoopbackAddress();
  if (other) await assert.rejects(get(listening.port, '/healthz', {}, other), /ECONNREFUSED/);

  for (const path of ['/events', '/status', '/metrics', '/']) {
    const rebound = await get(listening.port, path, { host: `attacker.example:${listening.port}` });
    assert.equal(rebound.status, 403, `${path} with a foreign Host`);
    assert.doesNotMatch(rebound.body, /Sepal|iris|mlstream_/);
  }
  assert.equal((await get(listening.port, '/healthz', { host: 'attacker.example' })).status !== 403, true);
  assert.equal((await get(listening.port, '/status', { host: `localhost:${listening.port}` })).status, 200);
  assert.equal((await get(listening.port, '/status', { host: `127.0.0.1:${listening.port}` })).status, 200);
});

test('HTTP_ALLOWED_HOSTS adds names; HTTP_TOKEN guards every path but /healthz', { skip, timeout: 120_000 }, async (t) => {
  const rig = await irisRig(t, 'http-token');
  const runtime = rig.start({ HTTP_PORT: '0', HTTP_ALLOWED_HOSTS: 'mlstream.internal', HTTP_TOKEN: 's3cret-token' });
  const { port } = (await runtime.waitForLog((l) => l.msg === 'http listening', 60_000)) as { port: number };
  const host = { host: `mlstream.internal:${port}` };
  assert.equal((await get(port, '/status', host)).status, 401);
  assert.equal((await get(port, '/status', { ...host, authorization: 'Bearer wrong-token!' })).status, 401);
  assert.equal((await get(port, '/status', { ...host, authorization: 'Bearer s3cret-token' })).status, 200);
  assert.equal((await get(port, '/metrics', { ...host, authorization: 'Bearer s3cret-token' })).status, 200);
  assert.notEqual((await get(port, '/healthz', host)).status, 401);
});

test('event streams past HTTP_MAX_SSE_CLIENTS get 429 and a log line while /healthz keeps answering', { skip, timeout: 120_000 }, async (t) => {
  const rig = await irisRig(t, 'http-sse');
  const runtime = rig.start({ HTTP_PORT: '0', HTTP_MAX_SSE_CLIENTS: '3' });
  const { port } = (await runtime.waitForLog((l) => l.msg === 'http listening', 60_000)) as { port: number };
  await runtime.waitForLog((l) => l.msg === 'consuming', 60_000);
  const open = await Promise.all([1, 2, 3].map(() => get(port, '/events')));
  for (const r of open) assert.equal(r.status, 200);
  const extra = await get(port, '/events');
  assert.equal(extra.status, 429);
  assert.match(extra.body, /HTTP_MAX_SSE_CLIENTS=3/);
  await runtime.waitForLog((l) => l.msg === 'event streams refused: too many open (429)' && l.max === 3, 10_000);
  assert.equal((await get(port, '/healthz')).status, 200);
});

test('a refusal in /status names the file relative to MODELS_DIR, with no absolute path', { skip, timeout: 120_000 }, async (t) => {
  const rig = await irisRig(t, 'http-paths');
  const runtime = rig.start({ HTTP_PORT: '0' });
  const { port } = (await runtime.waitForLog((l) => l.msg === 'http listening', 60_000)) as { port: number };
  const broken = join(rig.modelsDir, 'broken');
  mkdirSync(join(broken, 'metadata'), { recursive: true });
  writeFileSync(join(broken, 'config.json'), '{ not json');
  await runtime.waitForLog((l) => l.msg === 'model package refused' && l.model === 'broken', 30_000);
  const status = JSON.parse((await get(port, '/status')).body) as { refusals: { name: string; reason: string }[]; lastRefusal: { reason: string } };
  const reason = status.refusals.find((r) => r.name === 'broken')!.reason;
  assert.match(reason, /^broken\/config\.json: not valid JSON/);
  assert.equal(status.lastRefusal.reason, reason);
  assert.ok(!reason.includes(rig.modelsDir) && !reason.includes('/tmp/'), reason);
});
