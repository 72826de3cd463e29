import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLocalBroker } from '../../scripts/broker/index.js';
import { loadMails } from '../../scripts/examples/spam-corpus.js';
import { eventually, getJson } from '../helpers/http.js';
import { collectUntil, produceAll } from '../helpers/kafka.js';
import { tempDir } from '../helpers/packages.js';
import { startMlstream, startRuntime } from '../helpers/runtime-process.js';
import { produceFile } from '../helpers/train.js';

/**
 * The closed loop: `mlstream train` learns from a labelled topic as it fills and writes
 * versions into the models folder that `mlstream serve` is serving from, while a second
 * stream is scored. Serve hot-loads each version; /status shows the primary version
 * moving up, and the predictions name the versions that made them.
 */

interface PackageStatus {
  name: string;
  primary: string | null;
}

test(
  'while a trainer writes versions of a package, serve hot-loads them during a scored stream: /status shows the primary version rising and predictions come from several versions',
  { timeout: 240_000 },
  async (t) => {
    const work = tempDir('mlstream-train-serve-');
    const models = join(work, 'models');
    mkdirSync(models);
    const broker = await startLocalBroker({ topics: [{ name: 'train' }, { name: 'messages' }, { name: 'predictions' }, { name: 'errors' }] });
    const env = { KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_MAX_WAIT_MS: '200' };
    const serve = startRuntime({ ...env, MODELS_DIR: models, HTTP_PORT: '0', KAFKA_GROUP_ID: 'serve', MODEL_PIPELINE: 'spam' });
    const trainer = startMlstream(
      ['train', '--input-topic', 'train', '--label', 'label', '--text', 'text', '--algorithm', 'logistic-sgd', '--num-features', '16384', '--binary', '--step-size', '1', '--intercept', '--name', 'spam', '--every', '500', '--models-dir', models, '--group-id', 'trainer'],
      { ...env, LOG_LEVEL: 'info' },
    );
    let feeding = true;
    t.after(async () => {
      feeding = false;
      await trainer.stop();
      await serve.stop();
      await broker.stop();
      rmSync(work, { recursive: true, force: true });
    });
    const { port } = await serve.waitForLog((l) => l.msg === 'http listening');

    const mails = (await loadMails()).sort((a, b) => (a.md5 < b.md5 ? -1 : a.md5 > b.md5 ? 1 : 0)).slice(0, 3000);
    const file = join(work, 'train.jsonl');
    writeFileSync(file, mails.map((m) => JSON.stringify({ text: m.text, label: m.label === 1 ? 'spam' : 'ham' })).join('\n') + '\n');
    // Paced, so the versions arrive over several seconds as a live topic fills.
    const producing = produceFile(broker.bootstrap, file, 'train', ['--rate', '100']);

    // The second stream: texts to score, a few every 100 ms, while /status is watched.
    const primaries: string[] = [];
    let sent = 0;
    const scoring = (async () => {
      while (feeding) {
        const batch = Array.from({ length: 5 }, (_, i) => {
          const id = `q${sent + i}`;
          return { key: id, value: JSON.stringify({ id, text: mails[(sent + i) % mails.length]!.text }) };
        });
        await produceAll(broker.bootstrap, 'messages', batch);
        sent += batch.length;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const watching = (async () => {
      while (feeding) {
        const { body } = await getJson<{ models: PackageStatus[] }>(port, '/status');
        const primary = body.models.find((m) => m.name === 'spam')?.primary;
        if (primary && primaries.at(-1) !== primary) primaries.push(primary);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    await producing;
    const last = await trainer.waitForLog((l) => l.msg === 'version written' && Number(l.consumed) === mails.length, 120_000);
    await eventually('serve to load the last version', async () => (primaries.at(-1) === String(last.version) ? true : undefined), 60_000).catch((e: Error) => {
      // What serve was doing, for a failure seen once in CI and not reproduced since.
      throw new Error(`${e.message} (versions seen: ${primaries.join(' → ')}; last written ${last.version}); serve's last lines:\n${serve.logs.slice(-40).join('\n')}`);
    });
    feeding = false;
    await Promise.all([scoring, watching]);

    t.diagnostic(`primary versions seen by /status: ${primaries.join(' → ')}; ${sent} records scored`);
    assert.ok(primaries.length >= 3, `at least three versions served in turn, saw ${primaries.join(', ')}`);
    primaries.slice(1).forEach((v, i) => assert.ok(Number(v) > Number(primaries[i]), `versions only move up: ${primaries.join(', ')}`));

    const predictions = await collectUntil(broker.bootstrap, ['predictions'], (seen) => seen.length >= sent, 60_000);
    assert.equal(predictions.length, sent, 'every scored record has its prediction');
    const versions = new Set(predictions.map((p) => (p.value as { version: string }).version));
    for (const p of predictions) {
      const body = p.value as { prediction: string; model: string; version: string };
      assert.ok(body.prediction === 'ham' || body.prediction === 'spam', `a prediction reads as a trained label: ${JSON.stringify(body)}`);
      assert.equal(p.headers['mlstream-model'], `spam@${body.version}`);
    }
    assert.ok(versions.size >= 2, `predictions from several versions: ${[...versions].join(', ')}`);
    assert.equal(await trainer.stop(), 0, 'SIGTERM stops the trainer cleanly');
  },
);
