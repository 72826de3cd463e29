import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../runtime/config.js';

test('defaults and the seed-compatible environment names', () => {
  const c = loadConfig({}, { KAFKA_BOOTSTRAP_SERVER: 'k1:9092,k2:9093', KAFKA_INCOMING_MSG_TOPIC: 'in', MODEL_PIPELINE: 'm', KAFKA_STARTING_OFFSET: 'latest' });
  assert.deepEqual(c.brokers, ['k1:9092', 'k2:9093']);
  assert.equal(c.inputTopic, 'in');
  assert.equal(c.predictionsTopic, 'predictions');
  assert.equal(c.errorsTopic, 'errors');
  assert.equal(c.modelPipeline, 'm');
  assert.equal(c.fromBeginning, false);
  assert.equal(c.httpPort, undefined);
  assert.equal(c.ssl, false);
  assert.equal(c.sasl, undefined);
  assert.equal(c.mainShare, 0.75);
  assert.equal(c.fetchAhead, true);
  assert.equal(loadConfig({ fetchAhead: 'false' }, {}).fetchAhead, false);
  assert.equal(loadConfig({}, { KAFKA_FETCH_AHEAD: '0' }).fetchAhead, false);
  assert.equal(loadConfig({ mainShare: '0' }, {}).mainShare, 0);
});

test('flags win over the environment', () => {
  const c = loadConfig({ inputTopic: 'from-flag' }, { KAFKA_INCOMING_MSG_TOPIC: 'from-env' });
  assert.equal(c.inputTopic, 'from-flag');
});

test('a bad value names the variable and the flag', () => {
  assert.throws(() => loadConfig({}, { KAFKA_STARTING_OFFSET: 'middle' }), (e: Error) => e instanceof ConfigError && /KAFKA_STARTING_OFFSET \(--starting-offset\)/.test(e.message));
  assert.throws(() => loadConfig({}, { HTTP_PORT: '70000' }), /HTTP_PORT/);
  for (const bad of ['1.5', '-0.1', 'half', ' ']) assert.throws(() => loadConfig({}, { MLSTREAM_MAIN_SHARE: bad }), /MLSTREAM_MAIN_SHARE \(--main-share\) must be a number in \[0, 1\]/);
  assert.throws(() => loadConfig({}, { KAFKA_FETCH_AHEAD: 'sometimes' }), /KAFKA_FETCH_AHEAD \(--fetch-ahead\) must be true or false/);
  assert.throws(() => loadConfig({}, { KAFKA_BOOTSTRAP_SERVER: 'no-port' }), /not host:port/);
  assert.throws(() => loadConfig({}, { KAFKA_PREDICTIONS_TOPIC: 'messages' }), /three different topics/);
  assert.throws(() => loadConfig({}, { KAFKA_SASL_MECHANISM: 'plain' }), /SASL needs/);
  assert.throws(() => loadConfig({}, { KAFKA_SASL_MECHANISM: 'kerberos', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }), /plain, scram-sha-256 or scram-sha-512/);
});

test('SASL and TLS settings pass through', () => {
  const c = loadConfig({}, { KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' });
  assert.equal(c.ssl, true);
  assert.deepEqual(c.sasl, { mechanism: 'scram-sha-512', username: 'u', password: 'p' });
  const insecure = loadConfig({}, { KAFKA_SSL: 'true', KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' });
  assert.deepEqual(insecure.ssl, { rejectUnauthorized: false });
});
