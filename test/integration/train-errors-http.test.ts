import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { startLocalBroker } from '../../scripts/broker/index.js';
import { eventually, getJson } from '../helpers/http.js';
import { collectUntil, produceAll } from '../helpers/kafka.js';
import { tempDir } from '../helpers/packages.js';
import { startMlstream } from '../helpers/runtime-process.js';

/**
 * Records a trainer cannot learn go to the errors topic with a code and their source,
 * and training goes on; the trainer's own HTTP server shows its counts, prequential
 * figures and learning curve.
 */

const COLS = ['a', 'b'];

test(
  'unlearnable records (not JSON, no label, a third class, a wrong type) go to errors with a code while training continues; /status, /metrics and the learning-curve page report it, with the model evaluated on a hold-out topic and versions written by the clock',
  { timeout: 120_000 },
  async (t) => {
    const broker = await startLocalBroker({ topics: [{ name: 'labelled' }, { name: 'heldout' }, { name: 'errors' }] });
    const models = tempDir('mlstream-train-errors-');
    const good = Array.from({ length: 200 }, (_, i) => ({ a: (i % 10) / 10, b: i % 2, y: i % 2 === 0 ? 'even' : 'odd' }));
    const bad: Array<{ value: string; code: string }> = [
      { value: '{not json', code: 'DECODE_ERROR' },
      { value: JSON.stringify({ a: 1, b: 2 }), code: 'SCHEMA_VIOLATION' },
      { value: JSON.stringify({ a: 1, b: 2, y: 'third' }), code: 'SCHEMA_VIOLATION' },
      { value: JSON.stringify({ a: 'one', b: 2, y: 'odd' }), code: 'SCHEMA_VIOLATION' },
    ];
    const values = good.map((r) => JSON.stringify(r));
    bad.forEach((b, i) => values.splice(37 + i * 41, 0, b.value));
    await produceAll(broker.bootstrap, 'labelled', values.map((value) => ({ value })));
    const heldOut = Array.from({ length: 60 }, (_, i) => ({ a: ((i * 3) % 10) / 10, b: (i + 1) % 2, y: (i + 1) % 2 === 0 ? 'even' : 'odd' }));
    await produceAll(broker.bootstrap, 'heldout', heldOut.map((r) => ({ value: JSON.stringify(r) })));
    const trainer = startMlstream(
      ['train', '--input-topic', 'labelled', '--label', 'y', '--columns', COLS.join(','), '--algorithm', 'logistic-sgd', '--name', 'parity', '--every', '100000', '--every-seconds', '1', '--batch-size', '25', '--window', '100', '--holdout-topic', 'heldout', '--models-dir', models, '--group-id', 'errs'],
      { KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_MAX_WAIT_MS: '200', HTTP_PORT: '0', LOG_LEVEL: 'info' },
    );
    t.after(async () => {
      await trainer.stop();
      await broker.stop();
      rmSync(models, { recursive: true, force: true });
    });
    const { httpPort } = await trainer.waitForLog((l) => l.msg === 'training');
    // --every is out of reach: the version comes from the --every-seconds timer.
    await trainer.waitForLog((l) => l.msg === 'version written' && l.reason === 'timer' && Number(l.consumed) === 200, 60_000);

    const errors = await collectUntil(broker.bootstrap, ['errors'], (seen) => seen.length >= bad.length, 30_000);
    const offsets = values.map((v, i) => [v, i] as const).filter(([v]) => bad.some((b) => b.value === v)).map(([, i]) => String(i));
    assert.deepEqual(
      errors.map((e) => [(e.value as { error: { code: string } }).error.code, (e.value as { source: { offset: string } }).source.offset]),
      bad.map((b, i) => [b.code, offsets[i]]),
    );
    assert.match((errors[2]!.value as { error: { message: string } }).error.message, /"third" would be class 3 of a 2-class model/);
    assert.equal(errors[0]!.headers['mlstream-source'], `labelled/0/${offsets[0]}`);

    type Status = { records: number; trained: number; errors: Record<string, number>; lastVersion: number; prequential: { window: number; accuracy: number }; holdout?: { window: number; accuracy: number } };
    const status = await eventually('the held-out records to be read', async () => {
      const { body } = await getJson<Status>(httpPort, '/status');
      return body.holdout?.window === heldOut.length ? body : undefined;
    });
    assert.equal(status.records, 200);
    assert.equal(status.trained, 196);
    assert.deepEqual(status.errors, { DECODE_ERROR: 1, SCHEMA_VIOLATION: 3 });
    assert.equal(status.prequential.window, 100);
    t.diagnostic(`hold-out accuracy ${status.holdout!.accuracy}, prequential ${status.prequential.accuracy}`);
    assert.ok(status.holdout!.accuracy >= 0.9, `the label follows b, which the model learns: ${status.holdout!.accuracy}`);
    const metrics = await (await fetch(`http://127.0.0.1:${String(httpPort)}/metrics`)).text();
    assert.match(metrics, /mlstream_train_records_total\{model="parity"\} 200/);
    assert.match(metrics, /mlstream_train_errors_total\{model="parity",code="SCHEMA_VIOLATION"\} 3/);
    assert.match(metrics, new RegExp(`mlstream_train_prequential\\{model="parity",metric="accuracy"\\} ${status.prequential.accuracy}`));
    assert.match(metrics, new RegExp(`mlstream_train_holdout\\{model="parity",metric="accuracy"\\} ${status.holdout!.accuracy}`));
    assert.match(metrics, new RegExp(`mlstream_train_version\\{model="parity"\\} ${status.lastVersion}`));
    const page = await (await fetch(`http://127.0.0.1:${String(httpPort)}/`)).text();
    assert.match(page, /<h1>Learning curve: parity \(logistic-sgd\)<\/h1>/);
    assert.match(page, /<polyline [^>]*points="[0-9.,]+ [0-9., ]+"/, 'the curve has a point per micro-batch');
    assert.equal(await trainer.stop(), 0);
  },
);
