import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { test } from 'node:test';
import { startLocalBroker } from '../../scripts/broker/index.js';
import { loadMails } from '../../scripts/examples/spam-corpus.js';
import { loadPackage } from '../../runtime/packages/package.js';
import { buildFrame } from '../../runtime/pipeline/input-schema.js';
import { builtinRegistry } from '../../runtime/stages/index.js';
import { trainFlags, trainOptions } from '../../runtime/train/options.js';
import { Trainer } from '../../runtime/train/trainer.js';
import { runCli } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/packages.js';
import { startMlstream } from '../helpers/runtime-process.js';
import { filesOf, logLines, produceFile, versionsOf } from '../helpers/train.js';

/**
 * The done-when loop of `mlstream train` on the SpamAssassin corpus (6046 mails, in the
 * order of their MD5s so ham and spam are mixed): produced to a `train` topic with
 * `mlstream produce`, learned in one pass by streaming logistic regression on
 * Tokenizer → StopWordsRemover → HashingTF features.
 */

const FLAGS = (modelsDir: string, group: string): string[] => [
  'train',
  '--input-topic', 'train',
  '--label', 'label',
  '--text', 'text',
  '--algorithm', 'logistic-sgd',
  '--num-features', '16384',
  '--binary',
  '--step-size', '1',
  '--intercept',
  '--name', 'spam',
  '--every', '1000',
  '--batch-size', '100',
  '--keep', '100',
  '--until-end',
  '--models-dir', modelsDir,
  '--group-id', group,
];

test(
  'one pass over the SpamAssassin topic: a version at least every 1000 records, each one loadable, the last predicting as the trainer does, prequential accuracy over the last 1000 ≥ 0.95, and three SIGKILLs during the pass end in byte-identical files',
  { timeout: 300_000 },
  async (t) => {
    const broker = await startLocalBroker({ topics: [{ name: 'train' }, { name: 'errors' }] });
    const work = tempDir('mlstream-train-spam-');
    t.after(async () => {
      await broker.stop();
      rmSync(work, { recursive: true, force: true });
    });
    const mails = (await loadMails()).sort((a, b) => (a.md5 < b.md5 ? -1 : a.md5 > b.md5 ? 1 : 0));
    const file = join(work, 'spam.jsonl');
    writeFileSync(file, mails.map((m) => JSON.stringify({ text: m.text, label: m.label === 1 ? 'spam' : 'ham' })).join('\n') + '\n');
    await produceFile(broker.bootstrap, file, 'train');

    const env = { KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_MAX_WAIT_MS: '200', LOG_LEVEL: 'info' };
    const straight = join(work, 'straight');
    const run = await runCli(FLAGS(straight, 'train-straight'), env, 240_000);
    assert.equal(run.code, 0, run.stderr + run.stdout.slice(-3000));
    const logs = logLines(run.stdout);

    const written = logs.filter((l) => l.msg === 'version written');
    const consumed = written.map((l) => Number(l.consumed));
    assert.equal(consumed.at(-1), mails.length, 'the last version holds the whole pass');
    [0, ...consumed].slice(1).forEach((c, i) => assert.ok(c - ([0, ...consumed][i] ?? 0) <= 1000, `versions at ${consumed.join(', ')} records`));

    const packageDir = join(straight, 'spam');
    const versions = versionsOf(packageDir);
    assert.deepEqual(versions, written.map((l) => Number(l.version)));
    const registry = builtinRegistry();
    for (const v of versions) {
      const loaded = await loadPackage(join(packageDir, String(v)), registry);
      assert.deepEqual(Object.fromEntries(loaded.labels), { '0': 'ham', '1': 'spam' });
      await loaded.pipeline.dispose();
    }

    const stopped = logs.find((l) => l.msg === 'training stopped') as { prequential: { window: number; accuracy: number } };
    t.diagnostic(`prequential over the last ${stopped.prequential.window}: accuracy ${stopped.prequential.accuracy}`);
    assert.equal(stopped.prequential.window, 1000);
    assert.ok(stopped.prequential.accuracy >= 0.95, `accuracy ${stopped.prequential.accuracy}`);

    // The last version against the trainer's own model restored from its checkpoint.
    const served = await loadPackage(join(packageDir, String(versions.at(-1))), registry);
    const trainer = await Trainer.open(trainOptions(parseTrainFlags(FLAGS(straight, 'x')), undefined), straight, registry);
    const sample = mails.filter((_, i) => i % 7 === 0).map((m) => ({ text: m.text }));
    const frame = await served.pipeline.run(buildFrame(sample, served.fields));
    const predictions = frame.getTyped('prediction', 'double').values;
    const probabilities = frame.getTyped('probability', 'vector').values;
    const { vectors } = await trainer.featurePath.featurize(sample);
    assert.equal(frame.length, sample.length);
    vectors.forEach((x, i) => {
      const mine = trainer.current!.predict(x!);
      assert.equal(predictions[i], mine.prediction, `record ${i}`);
      const p = probabilities[i] as Float64Array;
      assert.ok(Math.abs(p[1]! - mine.probability!) < 1e-12, `record ${i}: ${p[1]} vs ${mine.probability}`);
    });
    await served.pipeline.dispose();
    await trainer.close();

    // The same pass, killed with SIGKILL three times (after the 1st, 2nd and 4th version, a little later each time).
    // The delays are fractions of the straight run's time per version, so each kill lands between two versions
    // however fast the machine (and the feature stages) are: after the 4th version two versions' worth of
    // records are left, and half a version's time cannot finish them. Fixed delays of 50–350 ms did not hold
    // once the text stages got faster: a run finished the pass within 350 ms of its 4th version.
    const times = written.map((l) => Number(l.time));
    const perVersionMs = (times.at(-1)! - times[0]!) / (times.length - 1);
    assert.ok(perVersionMs > 0, `version times ${times.join(', ')}`);
    t.diagnostic(`straight run: ${perVersionMs.toFixed(0)} ms per version`);
    const crashed = join(work, 'crashed');
    for (const [k, afterVersion] of [1, 2, 4].entries()) {
      const p = startMlstream(FLAGS(crashed, 'train-crashed'), env);
      await p.waitForLog((l) => l.msg === 'version written' && Number(l.consumed) >= afterVersion * 1000, 120_000);
      await new Promise((r) => setTimeout(r, perVersionMs * (0.1 + 0.2 * k)));
      assert.equal(p.child.exitCode, null, 'the trainer is killed during the pass, not after it');
      p.child.kill('SIGKILL');
      await p.exited();
    }
    const last = await runCli(FLAGS(crashed, 'train-crashed'), env, 240_000);
    assert.equal(last.code, 0, last.stderr + last.stdout.slice(-3000));
    const resumedAt = Number(logLines(last.stdout).find((l) => l.msg === 'training')?.resumedAt);
    assert.ok(resumedAt >= 4000 && resumedAt < mails.length, `the last run resumed from a checkpoint mid-pass (at ${resumedAt})`);
    const crashedDir = join(crashed, 'spam');
    const a = filesOf(join(packageDir, String(versions.at(-1))));
    const b = filesOf(join(crashedDir, String(versionsOf(crashedDir).at(-1))));
    assert.deepEqual([...b.keys()], [...a.keys()]);
    for (const [path, bytes] of a) assert.ok(bytes.equals(b.get(path)!), `${path} differs after the kills`);
  },
);

/** The CLI flags above as the options object `mlstream train` builds from them. */
function parseTrainFlags(args: string[]): Parameters<typeof trainOptions>[0] {
  const own = args.slice(1).filter((a, i, all) => !['--models-dir', '--group-id'].includes(a) && !['--models-dir', '--group-id'].includes(all[i - 1]!));
  return trainFlags(new Command('train')).parse(own, { from: 'user' }).opts();
}
