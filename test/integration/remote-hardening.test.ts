import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { processBatch } from '../../runtime/engine/batch.js';
import { loadPackage } from '../../runtime/packages/package.js';
import { builtinRegistry } from '../../runtime/stages/index.js';
import { mlstream } from '../helpers/cli.js';
import { skipWithoutFixtures } from '../helpers/fixtures.js';
import { irisRecords, toKafkaMessages } from '../helpers/iris.js';
import { collectUntil, produceAll } from '../helpers/kafka.js';
import { tempDir } from '../helpers/packages.js';
import { irisRig } from '../helpers/served-iris.js';

/**
 * Remote stages as a hostile package would use them: a URL on a host the runtime did not
 * allow, a server that accepts connections and never answers, a redirect elsewhere.
 */
const work = tempDir('mlstream-remote-hardening-');
after(() => rmSync(work, { recursive: true, force: true }));

const FIELDS = ['a', 'b'];

/** A single-stage RemoteModel package calling `url`. */
function remotePackage(dir: string, url: string, extra: Record<string, unknown> = {}): string {
  mkdirSync(join(dir, 'metadata'), { recursive: true });
  writeFileSync(
    join(dir, 'metadata/part-00000'),
    JSON.stringify({ class: 'mlstream.RemoteModel', uid: 'RemoteModel_t', paramMap: { protocol: 'kserve-v2', url, model: 'm', inputCols: FIELDS, ...extra } }),
  );
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ input_schema: { a: 'DOUBLE', b: 'DOUBLE' }, output_labels: {} }));
  return dir;
}

/** A TCP server that accepts connections and never says a word. */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

test('a remote URL on a host REMOTE_ALLOWED_HOSTS does not name refuses the package; naming it lets the package load', () => {
  const dir = remotePackage(join(work, 'metadata-service'), 'http://metadata.invalid/latest');
  const refused = mlstream(['validate', dir]);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /url's host "metadata\.invalid" is not one the runtime allows \(REMOTE_ALLOWED_HOSTS: localhost, 127\.0\.0\.1, ::1\)/);
  const allowed = mlstream(['validate', dir], { REMOTE_ALLOWED_HOSTS: 'metadata.invalid' });
  assert.equal(allowed.code, 0, allowed.err);
});

test('a server that never answers cannot hold a load: the warm-up is cut at 10 s and the package refused', async (t) => {
  const server = await silentServer();
  t.after(() => server.close());
  const dir = remotePackage(join(work, 'silent'), server.url, { timeoutMs: 600000, retries: 20 });
  const r = mlstream(['validate', dir]);
  assert.equal(r.code, 1);
  assert.match(r.err, /warm-up run did not finish within 10000 ms/);
});

test('a redirect to another host is not followed: the rows fail with REMOTE_ERROR', async (t) => {
  const redirector = createHttpServer((_req, res) => res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data' }).end());
  await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => redirector.close(() => r())));
  const dir = remotePackage(join(work, 'redirect'), `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`, { retries: 0 });
  const model = await loadPackage(dir, builtinRegistry(), 'redirect');
  t.after(() => model.pipeline.dispose());
  const value = Buffer.from(JSON.stringify({ id: 'x', a: 1, b: 2 }));
  const result = await processBatch([{ topic: 'messages', partition: 0, offset: '0', key: null, value }], model, { maxMessageBytes: 1 << 20, errorRawMaxBytes: 4096 });
  assert.equal(result.predictions.length, 0);
  const body = JSON.parse(result.errors[0]!.value) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'REMOTE_ERROR');
  assert.match(body.error.message, /connection failed/);
});

test('an unselected package whose model server never answers does not keep the selected one from serving', { skip: skipWithoutFixtures, timeout: 120_000 }, async (t) => {
  const server = await silentServer();
  t.after(() => server.close());
  const rig = await irisRig(t, 'remote-silent');
  remotePackage(join(rig.modelsDir, 'silent-remote'), server.url, { timeoutMs: 600000, retries: 20 });
  const records = irisRecords(20);
  await produceAll(rig.boot, 'messages', toKafkaMessages(records));
  const runtime = rig.start();
  const seen = await collectUntil(rig.boot, ['predictions'], (s) => s.length >= records.length, 45_000);
  assert.equal(seen.length, records.length, 'every iris record predicted');
  // Packages load in the background: iris served while the silent package's warm-up was still being cut.
  const refused = await runtime.waitForLog((l) => l.msg === 'model package refused' && l.model === 'silent-remote', 30_000);
  assert.match(String(refused.reason), /warm-up run did not finish/, 'the silent package was refused, naming why');
  assert.equal(await runtime.stop(), 0);
});
