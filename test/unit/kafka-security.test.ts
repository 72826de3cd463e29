import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';
import { Kafka } from 'kafkajs';
import { loadConfig } from '../../runtime/config.js';
import { createKafka, kafkaConfig } from '../../runtime/kafka/client.js';
import { createLogger } from '../../runtime/log.js';
import { startLocalBroker } from '../../scripts/broker/index.js';
import { tempDir } from '../helpers/packages.js';

const log = createLogger('silent');
const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

for (const [mechanism, flag] of [['plain', 'PLAIN'], ['scram-sha-256', 'SCRAM-SHA-256'], ['scram-sha-512', 'scram-sha-512']] as const) {
  test(`KAFKA_SASL_MECHANISM=${flag} with a user name and password reaches the kafkajs client as SASL ${mechanism}`, () => {
    const config = loadConfig({}, { KAFKA_SASL_MECHANISM: flag, KAFKA_SASL_USERNAME: 'svc-mlstream', KAFKA_SASL_PASSWORD: 'p@ss w0rd' });
    assert.deepEqual(kafkaConfig(config, log).sasl, { mechanism, username: 'svc-mlstream', password: 'p@ss w0rd' });
  });
}

test('SASL flags win over the environment, and no SASL setting means no SASL', () => {
  const env = { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'env-user', KAFKA_SASL_PASSWORD: 'env-pass' };
  const config = loadConfig({ saslMechanism: 'scram-sha-512', saslUsername: 'flag-user' }, env);
  assert.deepEqual(kafkaConfig(config, log).sasl, { mechanism: 'scram-sha-512', username: 'flag-user', password: 'env-pass' });
  assert.equal(kafkaConfig(loadConfig({}, {}), log).sasl, undefined);
  assert.equal(kafkaConfig(loadConfig({}, {}), log).ssl, false);
});

test('with SASL set, the client opens a SASL handshake — which the local broker, having no SASL, refuses', { timeout: 30_000 }, async () => {
  const broker = await startLocalBroker({ topics: [{ name: 'messages' }] });
  try {
    const plainAdmin = createKafka(loadConfig({}, { KAFKA_BOOTSTRAP_SERVER: broker.bootstrap }), log).admin();
    await plainAdmin.connect();
    await plainAdmin.disconnect();
    const sasl = loadConfig({}, { KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' });
    const admin = createKafka(sasl, log).admin({ retry: { retries: 0 } });
    await assert.rejects(admin.connect(), (e: Error) => e.name === 'KafkaJSServerDoesNotSupportApiKey' || /SASL|not support/i.test(e.message));
  } finally {
    await broker.stop();
  }
});

test('TLS files from KAFKA_SSL_* reach kafkajs, and a TLS "broker" sees the client certificate they name (mutual TLS); a wrong CA is refused', { skip: hasOpenssl ? false : 'openssl is not installed', timeout: 30_000 }, async (t) => {
  const dir = tempDir('mlstream-tls-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = makePki(dir);

  const config = loadConfig({}, { KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: pki.caFile, KAFKA_SSL_CERT_FILE: pki.clientCertFile, KAFKA_SSL_KEY_FILE: pki.clientKeyFile });
  assert.deepEqual(kafkaConfig(config, log).ssl, {
    ca: [readFileSync(pki.caFile, 'utf8')],
    cert: readFileSync(pki.clientCertFile, 'utf8'),
    key: readFileSync(pki.clientKeyFile, 'utf8'),
    rejectUnauthorized: true,
  });
  assert.equal(kafkaConfig(loadConfig({}, { KAFKA_SSL: 'true' }), log).ssl, true);
  assert.deepEqual(kafkaConfig(loadConfig({ sslRejectUnauthorized: 'false' }, { KAFKA_SSL: 'true' }), log).ssl, { rejectUnauthorized: false });

  const seen: Array<{ authorized: boolean; clientCn: unknown }> = [];
  const server = tls.createServer({ key: pki.serverKey, cert: pki.serverCert, ca: [pki.caPem], requestCert: true, rejectUnauthorized: false }, (socket) => {
    seen.push({ authorized: socket.authorized, clientCn: socket.getPeerCertificate().subject?.CN });
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const bootstrap = `localhost:${(server.address() as AddressInfo).port}`;

  // The runtime's client options, with retries off: the fake broker hangs up after the handshake.
  const client = (c: typeof config): Kafka => new Kafka({ ...kafkaConfig({ ...c, brokers: [bootstrap] }, log), retry: { retries: 0 } });
  const good = client(config).admin();
  await assert.rejects(good.connect());
  assert.ok(seen.length > 0, 'the TLS handshake completed');
  assert.deepEqual(seen[0], { authorized: true, clientCn: 'mlstream-client' });

  seen.length = 0;
  const wrongCa = loadConfig({}, { KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: pki.otherCaFile });
  const refused = client(wrongCa).admin();
  await assert.rejects(refused.connect(), /certificate/i);
  assert.equal(seen.length, 0, 'no connection with an unverified broker');
});

interface Pki {
  caFile: string;
  caPem: string;
  otherCaFile: string;
  serverKey: string;
  serverCert: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/** A CA, a server certificate for localhost and a client certificate, made with openssl. */
function makePki(dir: string): Pki {
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ca = (name: string): void => ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`);
  const leaf = (name: string, ext?: string): void => {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    const extArgs = ext ? ['-extfile', ext] : [];
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.pem`, ...extArgs);
  };
  ca('ca');
  ca('other-ca');
  execFileSync('sh', ['-c', 'printf "subjectAltName=DNS:localhost,IP:127.0.0.1\\n" > san.ext'], { cwd: dir });
  leaf('localhost', 'san.ext');
  leaf('mlstream-client');
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  return {
    caFile: join(dir, 'ca.pem'),
    caPem: read('ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    serverKey: read('localhost.key'),
    serverCert: read('localhost.pem'),
    clientCertFile: join(dir, 'mlstream-client.pem'),
    clientKeyFile: join(dir, 'mlstream-client.key'),
  };
}
