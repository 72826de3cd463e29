import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import { Kafka } from 'kafkajs';
import { loadConfig } from '../../runtime/config.js';
import { createKafka, kafkaConfig } from '../../runtime/kafka/client.js';
import { securityProperties } from '../../runtime/kafka/librdkafka-client.js';
import { checkTlsHandshake } from '../../runtime/kafka/tls-check.js';
import { createLogger } from '../../runtime/log.js';
import { startLocalBroker } from '../../scripts/broker/index.js';
import { tempDir } from '../helpers/packages.js';
import { hasOpenssl, makePki } from '../helpers/pki.js';

const log = createLogger('silent');

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

test('the handshake check before kafkajs connects: a certificate the client cannot verify rejects at once with the reason; a broker that does not answer is left to the client\'s retries', { skip: hasOpenssl ? false : 'openssl is not installed', timeout: 30_000 }, async (t) => {
  const dir = tempDir('mlstream-tls-check-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = makePki(dir);
  const server = tls.createServer({ key: pki.serverKey, cert: pki.serverCert }, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const up = `localhost:${(server.address() as AddressInfo).port}`;
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const down = `127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));

  const ssl = (caFile: string) => loadConfig({}, { KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: caFile }).ssl;
  await checkTlsHandshake([up], ssl(pki.caFile));
  await checkTlsHandshake([down, up], ssl(pki.caFile));
  await assert.rejects(checkTlsHandshake([down, up], ssl(pki.otherCaFile)), (e: Error) => e.message.startsWith(`TLS handshake with ${up} failed: `) && /certificate/i.test(e.message));
  await checkTlsHandshake([down], ssl(pki.otherCaFile)); // nothing listening: not a certificate problem
  await checkTlsHandshake([up], false); // no TLS: nothing to check
  await checkTlsHandshake([up], loadConfig({ sslRejectUnauthorized: 'false' }, { KAFKA_SSL: 'true' }).ssl);
});

test('the same TLS and SASL settings map to librdkafka properties: protocol, PEM text, verification, mechanism', () => {
  const props = (env: Record<string, string>): Record<string, string | boolean> => {
    const c = loadConfig({}, env);
    return securityProperties(c.ssl, c.sasl);
  };
  assert.deepEqual(props({}), {}, 'plaintext is librdkafka\'s default');
  assert.deepEqual(props({ KAFKA_SSL: 'true' }), { 'security.protocol': 'ssl', 'enable.ssl.certificate.verification': true, 'ssl.endpoint.identification.algorithm': 'https' });
  assert.deepEqual(props({ KAFKA_SSL: 'true', KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' }), {
    'security.protocol': 'ssl',
    'enable.ssl.certificate.verification': false,
    'ssl.endpoint.identification.algorithm': 'none',
  });
  assert.deepEqual(props({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p w' }), {
    'security.protocol': 'sasl_plaintext',
    'sasl.mechanisms': 'SCRAM-SHA-512',
    'sasl.username': 'u',
    'sasl.password': 'p w',
  });
  const c = loadConfig({}, { KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' });
  const pem = { ca: ['-----CA-----'], cert: '-----CERT-----', key: '-----KEY-----', rejectUnauthorized: true };
  assert.deepEqual(securityProperties(pem, c.sasl), {
    'security.protocol': 'sasl_ssl',
    'ssl.ca.pem': '-----CA-----',
    'ssl.certificate.pem': '-----CERT-----',
    'ssl.key.pem': '-----KEY-----',
    'enable.ssl.certificate.verification': true,
    'ssl.endpoint.identification.algorithm': 'https',
    'sasl.mechanisms': 'PLAIN',
    'sasl.username': 'u',
    'sasl.password': 'p',
  });
});
