import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { startLocalBroker } from '../../scripts/broker/index.js';
import { account, readAll, summary, waitUntilCommitted } from '../helpers/delivery.js';
import { skipWithoutFixtures } from '../helpers/fixtures.js';
import { irisRecords, toKafkaMessages } from '../helpers/iris.js';
import { produceAll, TEST_CLIENT_ID } from '../helpers/kafka.js';
import { tempDir } from '../helpers/packages.js';
import { hasOpenssl, makePki } from '../helpers/pki.js';
import { startRuntime, type RuntimeProcess } from '../helpers/runtime-process.js';
import { irisModels, irisRuntimeEnv } from '../helpers/served-iris.js';
import { startSaslProxy } from '../helpers/sasl-proxy.js';
import { startTlsProxy } from '../helpers/tls-proxy.js';

/*
 * `mlstream serve` over TLS with a client certificate, and with SASL, on each Kafka client: the
 * local broker is reached only through a TLS listener (a proxy in front of its plaintext port,
 * which Metadata names: the broker's `advertise` command), the way a secured cluster is. The
 * records, the outputs, the group's joins and commits all cross TLS; the test's own clients
 * stay plaintext (the proxy passes a connection that does not open with a TLS handshake
 * through as it is). For SASL a second proxy (test/helpers/sasl-proxy.ts) sits between that
 * listener and the broker and authenticates every connection but the tests' own, as a
 * broker's SASL listener does (the local broker has no SASL).
 */

const skip = skipWithoutFixtures || (hasOpenssl ? false : 'openssl is not installed');
const RECORDS = 600;

type LogLine = Record<string, unknown>;

/**
 * The local broker behind a TLS listener (plaintext connections pass through it), and with
 * `sasl` a SASL listener between the two; the iris records produced; runtimes started by
 * `start` reach the broker only through the listeners, and the test's end stops everything.
 */
async function tlsRig(t: TestContext, sasl?: { users: Record<string, string> }) {
  const dir = tempDir('mlstream-tls-');
  const pki = makePki(dir);
  const broker = await startLocalBroker({ topics: [{ name: 'messages', partitions: 2 }, { name: 'predictions', partitions: 2 }, { name: 'errors' }] });
  const models = irisModels();
  const [host, port] = broker.brokers[0]!.split(':') as [string, string];
  const saslProxy = sasl ? await startSaslProxy({ host, port: Number(port) }, { users: sasl.users, passClientId: TEST_CLIENT_ID }) : undefined;
  const upstream = saslProxy ? { host: '127.0.0.1', port: saslProxy.port } : { host, port: Number(port) };
  const proxy = await startTlsProxy(upstream, { key: pki.serverKey, cert: pki.serverCert, ca: pki.caPem });
  const started: RuntimeProcess[] = [];
  t.after(async () => {
    for (const r of started) await r.stop();
    await proxy.close();
    await saslProxy?.close();
    await broker.stop();
    models.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const records = irisRecords(RECORDS);
  await produceAll(broker.bootstrap, 'messages', toKafkaMessages(records));
  await broker.command(`advertise 1 127.0.0.1 ${proxy.port}`);
  const tlsEnv = (client: string, caFile = pki.caFile): Record<string, string> => ({
    KAFKA_CLIENT: client,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: caFile,
    KAFKA_SSL_CERT_FILE: pki.clientCertFile,
    KAFKA_SSL_KEY_FILE: pki.clientKeyFile,
  });
  const start = (group: string, env: Record<string, string>): RuntimeProcess => {
    const rt = startRuntime(irisRuntimeEnv(`127.0.0.1:${proxy.port}`, models.modelsDir, group, env));
    started.push(rt);
    return rt;
  };
  return { broker, proxy, saslProxy, pki, records, tlsEnv, start };
}

const problems = (rt: RuntimeProcess): LogLine[] =>
  rt.logs.flatMap((l) => {
    try {
      const line = JSON.parse(l) as LogLine;
      return Number(line.level) >= 40 ? [line] : [];
    } catch {
      return [];
    }
  });

for (const client of ['kafkajs', 'librdkafka'] as const) {
  test(`KAFKA_CLIENT=${client} over TLS with a client certificate: every record answered once through the TLS listener; with a CA that did not sign the broker's certificate, no session opens and the log says why`, { skip, timeout: 120_000 }, async (t) => {
    const { broker, proxy, records, tlsEnv, start, pki } = await tlsRig(t);
    const rt = start(`tls-${client}`, tlsEnv(client));
    await waitUntilCommitted(broker.bootstrap, `tls-${client}`, 'messages', 60_000);
    const outputs = await readAll(broker.bootstrap, ['predictions', 'errors']);
    const report = account(records.map((r) => r.id), outputs);
    assert.deepEqual(report.missing, [], summary(report));
    assert.equal(report.duplicates, 0, summary(report));
    assert.equal(outputs.filter((o) => o.topic === 'predictions').length, RECORDS);
    assert.equal(await rt.stop(), 0);

    // The runtime's connections were TLS sessions with its certificate, and carried the data:
    // at least every input record's value in, and every output's value out.
    const ours = proxy.sessions.filter((s) => s.clientCn === 'mlstream-client');
    assert.ok(ours.length > 0 && ours.every((s) => s.authorized), `sessions: ${JSON.stringify(proxy.sessions)}`);
    const inBytes = toKafkaMessages(records).reduce((n, m) => n + Buffer.byteLength(m.value), 0);
    const outBytes = outputs.reduce((n, o) => n + Buffer.byteLength(JSON.stringify(o.value)), 0);
    const toClient = ours.reduce((n, s) => n + s.toClient, 0);
    const fromClient = ours.reduce((n, s) => n + s.fromClient, 0);
    assert.ok(toClient > inBytes, `${toClient} bytes to the runtime over TLS, the records hold ${inBytes}`);
    assert.ok(fromClient > outBytes, `${fromClient} bytes from the runtime over TLS, its outputs hold ${outBytes}`);
    assert.deepEqual(problems(rt), [], 'no warnings or errors over TLS');

    const sessionsBefore = proxy.sessions.length;
    const wrong = start(`tls-${client}-wrong-ca`, tlsEnv(client, pki.otherCaFile));
    // At once: librdkafka within one connect attempt (3 s), not its whole 30 s connect timeout;
    // kafkajs, which would retry the handshake 8 times (about a minute), after the runtime's own
    // handshake check (runtime/kafka/tls-check.ts).
    assert.equal(await exitWithin(wrong, 20_000), 1, 'a runtime that cannot verify the broker does not start');
    const fatal = wrong.logs.map((l) => JSON.parse(l) as LogLine).find((l) => l.level === 60);
    assert.match(JSON.stringify(fatal), /certificate/i, 'its fatal line says the certificate could not be verified');
    assert.equal(proxy.sessions.length, sessionsBefore, 'no TLS session with a broker the client could not verify');
    assert.ok(proxy.refused.length > 0, 'the handshake was abandoned');
  });
}

for (const client of ['kafkajs', 'librdkafka'] as const) {
  test(`KAFKA_CLIENT=${client} with SASL: SCRAM-SHA-512 over plaintext and PLAIN over TLS authenticate and answer every record once; a wrong password stops the runtime with exit code 1 and the broker's reason`, { skip, timeout: 150_000 }, async (t) => {
    const rig = await tlsRig(t, { users: { svc: 'svc-secret' } });
    const { broker, records, pki } = rig;
    const front = rig.proxy;
    const sasl = rig.saslProxy!;
    const start = (group: string, env: Record<string, string>): RuntimeProcess => rig.start(group, { KAFKA_CLIENT: client, KAFKA_SASL_USERNAME: 'svc', ...env });

    const inBytes = toKafkaMessages(records).reduce((n, m) => n + Buffer.byteLength(m.value), 0);
    const runs: Array<{ group: string; mechanism: string; env: Record<string, string> }> = [
      { group: `scram-${client}`, mechanism: 'SCRAM-SHA-512', env: { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD: 'svc-secret' } },
      { group: `plain-tls-${client}`, mechanism: 'PLAIN', env: { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: 'svc-secret', KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: pki.caFile } },
    ];
    for (const run of runs) {
      const rt = start(run.group, run.env);
      await waitUntilCommitted(broker.bootstrap, run.group, 'messages', 60_000);
      assert.equal(await rt.stop(), 0);
      assert.deepEqual(problems(rt), [], `no warnings or errors with ${run.mechanism}`);
      const ours = sasl.sessions.filter((s) => s.clientId !== TEST_CLIENT_ID && s.mechanism === run.mechanism);
      assert.ok(ours.length > 0 && ours.every((s) => s.authenticated === true && s.user === 'svc'), `${run.mechanism} sessions: ${JSON.stringify(sasl.sessions)}`);
      assert.ok(ours.reduce((n, s) => n + s.toClient, 0) > inBytes, `the ${run.mechanism} sessions carried the records`);
    }
    assert.ok(front.sessions.reduce((n, s) => n + s.toClient, 0) > inBytes, 'the PLAIN run\'s records crossed TLS sessions');
    assert.deepEqual(sasl.refused, [], 'every connection of the runtime authenticated before its first request');

    // Both groups answered every record once: each id twice in all.
    const outputs = await readAll(broker.bootstrap, ['predictions', 'errors']);
    assert.equal(outputs.filter((o) => o.topic === 'predictions').length, 2 * RECORDS);
    const perId = new Map<string, number>();
    for (const o of outputs) perId.set(o.key ?? '', (perId.get(o.key ?? '') ?? 0) + 1);
    assert.deepEqual(records.filter((r) => perId.get(r.id) !== 2).map((r) => r.id), []);

    const wrong = start(`wrong-${client}`, { KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_PASSWORD: 'not-the-password' });
    assert.equal(await exitWithin(wrong, 30_000), 1, 'a runtime the broker does not authenticate does not start');
    const fatal = wrong.logs.map((l) => JSON.parse(l) as LogLine).find((l) => l.level === 60);
    assert.match(JSON.stringify(fatal), /invalid credentials with SASL mechanism SCRAM-SHA-256/, "its fatal line carries the broker's reason");
    const refusedSession = sasl.sessions.find((s) => s.mechanism === 'SCRAM-SHA-256');
    assert.equal(refusedSession?.authenticated, false, 'the wrong password was the one refused');
  });
}

/** The process's exit code, or a failure naming its last log lines if it is still running after `ms`. */
async function exitWithin(rt: RuntimeProcess, ms: number): Promise<number | null> {
  const timedOut = Symbol('timed out');
  const code = await Promise.race([rt.exited(), new Promise<typeof timedOut>((r) => setTimeout(() => r(timedOut), ms).unref())]);
  if (code === timedOut) assert.fail(`still running after ${ms} ms; last log lines:\n${rt.logs.slice(-10).join('\n')}`);
  return code;
}
