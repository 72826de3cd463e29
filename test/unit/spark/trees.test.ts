import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readMetadata, readParquetRows } from '../../../runtime/packages/spark-format.js';
import { sparseFromPairs, vectorAt, type Vector } from '../../../runtime/pipeline/frame.js';
import { treeStages } from '../../../runtime/stages/spark/trees.js';
import { fixture, readSparkCsv, skipWithoutFixtures } from '../../helpers/fixtures.js';
import { build, doubles, fixtureStageDir, frameWith, loadStage, rng, run, runFixturePipeline, sv, vec, vectors } from './model-helpers.js';

const CLS = 'org.apache.spark.ml.classification.';
const REG = 'org.apache.spark.ml.regression.';

interface NodeSpec {
  id: number;
  stats: number[];
  prediction?: number;
  children?: [number, number];
  split?: { feature: number; threshold?: number; categories?: number[]; numCategories?: number };
}

/** A node row as Spark writes it. */
function node(n: NodeSpec): Record<string, unknown> {
  const split = n.split
    ? {
        featureIndex: n.split.feature,
        leftCategoriesOrThreshold: n.split.categories ?? [n.split.threshold!],
        numCategories: n.split.numCategories ?? -1,
      }
    : { featureIndex: -1, leftCategoriesOrThreshold: [], numCategories: -1 };
  return {
    id: n.id,
    prediction: n.prediction ?? n.stats.indexOf(Math.max(...n.stats)),
    impurity: 0,
    impurityStats: n.stats,
    rawCount: 10n,
    gain: 0,
    leftChild: n.children?.[0] ?? -1,
    rightChild: n.children?.[1] ?? -1,
    split,
  };
}

/** x0 <= 1.5 → [8,1,1]; else x1 in {0, 2} → [0,9,1], else [2,0,8]. Rows deliberately out of order. */
const classTree = [
  node({ id: 4, stats: [2, 0, 8] }),
  node({ id: 0, stats: [10, 10, 10], children: [1, 2], split: { feature: 0, threshold: 1.5 } }),
  node({ id: 2, stats: [2, 9, 9], children: [3, 4], split: { feature: 1, categories: [0, 2], numCategories: 4 } }),
  node({ id: 1, stats: [8, 1, 1] }),
  node({ id: 3, stats: [0, 9, 1] }),
];

function decisionTree(rows: Record<string, unknown>[], params: Record<string, unknown> = {}) {
  return build(treeStages, {
    class: CLS + 'DecisionTreeClassificationModel',
    params,
    extra: { numFeatures: 2, numClasses: 3 },
    data: { data: rows },
  });
}

describe('DecisionTreeClassificationModel', () => {
  it('goes left when x <= threshold or the category is a left one; raw = leaf counts, probability = counts / total', async () => {
    const xs = [vec([1.5, 0]), vec([2, 2]), sv(2, [0, 1], [2, 3]), vec([2, 7]), vec([NaN, 3])];
    const frame = await run(await decisionTree(classTree, { leafCol: 'leaf' }), frameWith('features', xs));
    assert.deepEqual(
      vectors(frame, 'rawPrediction').map((v) => [...v]),
      [[8, 1, 1], [0, 9, 1], [2, 0, 8], [2, 0, 8], [2, 0, 8]],
    );
    assert.deepEqual(
      vectors(frame, 'probability').map((v) => [...v]),
      [[0.8, 0.1, 0.1], [0, 0.9, 0.1], [0.2, 0, 0.8], [0.2, 0, 0.8], [0.2, 0, 0.8]],
    );
    assert.deepEqual(doubles(frame, 'prediction'), [0, 1, 2, 2, 2]);
    assert.deepEqual(doubles(frame, 'leaf'), [0, 1, 2, 2, 2]);
  });

  it('tests the complement when the left set is the larger one, so unknown categories go left', async () => {
    const tree = [
      node({ id: 0, stats: [5, 5, 0], children: [1, 2], split: { feature: 1, categories: [0, 1, 2], numCategories: 4 } }),
      node({ id: 1, stats: [5, 0, 0] }),
      node({ id: 2, stats: [0, 5, 0] }),
    ];
    const frame = await run(await decisionTree(tree), frameWith('features', [vec([0, 7]), vec([0, 3]), vec([0, 1])]));
    assert.deepEqual(doubles(frame, 'prediction'), [0, 1, 0]);
  });

  it('applies thresholds, predicts the leaf prediction without raw/probability columns, and rejects short vectors', async () => {
    const byThresholds = await run(await decisionTree(classTree, { thresholds: [1, 1, 0.01] }), frameWith('features', [vec([2, 2])]));
    assert.deepEqual(doubles(byThresholds, 'prediction'), [2]);
    const labelled = classTree.map((r) => (r.id === 3 ? { ...r, prediction: 7 } : r));
    const bare = await decisionTree(labelled, { rawPredictionCol: '', probabilityCol: '' });
    assert.deepEqual(bare.outputCols, ['prediction']);
    const frame = await run(bare, frameWith('features', [vec([2, 0]), vec([2])]));
    assert.deepEqual(doubles(frame, 'prediction'), [7]);
    assert.match(frame.rejections[0]!.message, /size 1/);
  });

  it('refuses node ids that are not 0..n-1', async () => {
    await assert.rejects(decisionTree(classTree.filter((r) => r.id !== 3)), /node ids/);
  });
});

describe('DecisionTreeRegressionModel', () => {
  it('predicts the leaf value and its variance (sumSq - sum²/count) / count', async () => {
    const stage = await build(treeStages, {
      class: REG + 'DecisionTreeRegressionModel',
      params: { varianceCol: 'var' },
      extra: { numFeatures: 1 },
      data: {
        data: [
          node({ id: 0, stats: [6, 12, 40], prediction: 2, children: [1, 2], split: { feature: 0, threshold: 0 } }),
          node({ id: 1, stats: [4, 10, 30], prediction: 2.5 }),
          node({ id: 2, stats: [2, 2, 10], prediction: 1 }),
        ],
      },
    });
    assert.deepEqual(stage.outputCols, ['prediction', 'var']);
    const frame = await run(stage, frameWith('features', [vec([-1]), vec([1])]));
    assert.deepEqual(doubles(frame, 'prediction'), [2.5, 1]);
    assert.deepEqual(doubles(frame, 'var'), [(30 - 100 / 4) / 4, (10 - 4 / 2) / 2]);
  });
});

/** Ensemble data: (treeID, nodeData) rows and per-tree weights, trees listed in reverse to check ordering. */
function ensemble(trees: Record<string, unknown>[][], weights: number[]) {
  return {
    data: trees.flatMap((rows, t) => rows.map((nodeData) => ({ treeID: t, nodeData }))).reverse(),
    treesMetadata: weights.map((w, t) => ({ treeID: t, metadata: '{}', weights: w })),
  };
}

describe('RandomForestClassificationModel', () => {
  it('adds each tree leaf counts normalized to 1, skips empty leaves, then normalizes', async () => {
    const stage = await build(treeStages, {
      class: CLS + 'RandomForestClassificationModel',
      params: { leafCol: 'leaves' },
      extra: { numFeatures: 2, numClasses: 3, numTrees: 3 },
      data: ensemble([classTree, [node({ id: 0, stats: [0, 3, 1] })], [node({ id: 0, stats: [0, 0, 0] })]], [1, 1, 1]),
    });
    const frame = await run(stage, frameWith('features', [vec([1.5, 0])]));
    const votes = [0.8 + 0, 0.1 + 0.75, 0.1 + 0.25];
    assert.deepEqual([...vectors(frame, 'rawPrediction')[0]!], votes);
    const total = votes[0]! + votes[1]! + votes[2]!;
    assert.deepEqual([...vectors(frame, 'probability')[0]!], votes.map((v) => v / total));
    assert.deepEqual(doubles(frame, 'prediction'), [1]);
    assert.deepEqual([...vectors(frame, 'leaves')[0]!], [0, 0, 0]);
  });
});

describe('RandomForestRegressionModel and GBT models', () => {
  const stump = [
    node({ id: 0, stats: [2, 0, 2], prediction: 0, children: [1, 2], split: { feature: 0, threshold: 0 } }),
    node({ id: 1, stats: [1, -1, 1], prediction: -1 }),
    node({ id: 2, stats: [1, 1, 1], prediction: 1 }),
  ];
  const constant = [node({ id: 0, stats: [1, 0.5, 0.25], prediction: 0.5 })];
  const model = (cls: string, weights: number[], params: Record<string, unknown> = {}) =>
    build(treeStages, { class: cls, params, extra: { numFeatures: 1, numTrees: 2 }, data: ensemble([stump, constant], weights) });

  it('random forest regression averages the trees', async () => {
    const frame = await run(await model(REG + 'RandomForestRegressionModel', [1, 1]), frameWith('features', [vec([1]), vec([-1])]));
    assert.deepEqual(doubles(frame, 'prediction'), [(1 + 0.5) / 2, (-1 + 0.5) / 2]);
  });

  it('GBT regression sums weight × tree prediction', async () => {
    const frame = await run(await model(REG + 'GBTRegressionModel', [1, 0.1]), frameWith('features', [vec([1]), vec([-1])]));
    assert.deepEqual(doubles(frame, 'prediction'), [1 + 0.5 * 0.1, -1 + 0.5 * 0.1]);
  });

  it('GBT classification gives [-m, m] and the logistic-loss probability 1 / (1 + e^(2m))', async () => {
    const stage = await model(CLS + 'GBTClassificationModel', [1, 0.1]);
    const frame = await run(stage, frameWith('features', [vec([1]), vec([-1])]));
    const m = [1 + 0.5 * 0.1, -1 + 0.5 * 0.1];
    assert.deepEqual(vectors(frame, 'rawPrediction').map((v) => [...v]), m.map((x) => [-x, x]));
    const p0 = m.map((x) => 1 / (1 + Math.exp(-2 * -x)));
    assert.deepEqual(vectors(frame, 'probability').map((v) => [...v]), p0.map((p) => [p, 1 - p]));
    assert.deepEqual(doubles(frame, 'prediction'), [1, 0]);
    const bare = await model(CLS + 'GBTClassificationModel', [1, 0.1], { rawPredictionCol: '', probabilityCol: '' });
    assert.deepEqual(doubles(await run(bare, frameWith('features', [vec([1]), vec([-1])])), 'prediction'), [1, 0]);
  });
});

/** A straightforward recursive walk over Spark's node rows, as the reference for the fixtures. */
function referenceLeaf(nodes: Map<number, Record<string, unknown>>, x: Vector): Record<string, unknown> {
  let n = nodes.get(0)!;
  while (Number(n.leftChild) !== -1) {
    const split = n.split as { featureIndex: number; leftCategoriesOrThreshold: number[]; numCategories: number };
    const v = vectorAt(x, Number(split.featureIndex));
    const left =
      Number(split.numCategories) === -1 ? v <= split.leftCategoriesOrThreshold[0]! : split.leftCategoriesOrThreshold.map(Number).includes(v);
    n = nodes.get(Number(left ? n.leftChild : n.rightChild))!;
  }
  return n;
}

/** Random vectors whose categorical features (those with categorical splits) hold valid categories. */
function randomFeatures(rows: Record<string, unknown>[], size: number, count: number): Vector[] {
  const categorical = new Map<number, number>();
  for (const r of rows) {
    const s = r.split as { featureIndex: number; numCategories: number };
    if (Number(r.leftChild) !== -1 && Number(s.numCategories) !== -1) categorical.set(Number(s.featureIndex), Number(s.numCategories));
  }
  const thresholds = rows.filter((r) => Number(r.leftChild) !== -1).map((r) => (r.split as { leftCategoriesOrThreshold: number[] }).leftCategoriesOrThreshold[0]!);
  const next = rng(size + count);
  return Array.from({ length: count }, () => {
    const idx = Array.from({ length: Math.min(size, 30) }, () => Math.floor(next() * size));
    const unique = [...new Set(idx)];
    const values = unique.map((j) =>
      categorical.has(j) ? Math.floor(next() * categorical.get(j)!) : thresholds[Math.floor(next() * thresholds.length)]! + (next() - 0.5) * 0.2,
    );
    return sparseFromPairs(size, unique, values);
  });
}

async function treeRows(dir: string): Promise<Map<number, Map<number, Record<string, unknown>>>> {
  const trees = new Map<number, Map<number, Record<string, unknown>>>();
  for (const r of await readParquetRows(dir)) {
    const t = r.nodeData ? Number(r.treeID) : 0;
    const n = (r.nodeData ?? r) as Record<string, unknown>;
    if (!trees.has(t)) trees.set(t, new Map());
    trees.get(t)!.set(Number(n.id), n);
  }
  return trees;
}

describe('tree models on real Spark exports', { skip: skipWithoutFixtures }, () => {
  it("jpmml33-iris-scaler-dt: the whole pipeline gives Spark's probabilities and labels on all 150 rows", async () => {
    const name = 'jpmml33-iris-scaler-dt';
    const iris = { Sepal_Length: 'DOUBLE', Sepal_Width: 'DOUBLE', Petal_Length: 'DOUBLE', Petal_Width: 'DOUBLE' };
    const { frame } = await runFixturePipeline(name, 'input-Iris.csv', iris);
    const expected = readSparkCsv(join(fixture(name), 'sample/expected-DecisionTreeIris.csv'));
    const labels = ['setosa', 'versicolor', 'virginica'];
    expected.rows.forEach((r, i) => {
      assert.equal(labels[doubles(frame, 'prediction')[i]!], r[0], `row ${i}`);
      assert.deepEqual([...vectors(frame, 'probability')[i]!], labels.map((l) => Number(r[expected.header.indexOf(`probability(${l})`)])));
    });
  });

  for (const [name, prefix] of [
    ['nikola-health-dt-single', null],
    ['kappa-youtube-cv-dt', '5_'],
    ['hydro21-vecindexer-dt-idx2str', '2_'],
    ['kappa-youtube-cv-rf', '5_'],
    ['willkent-reddit-ohe-rf', '7_'],
    ['hydro21-strindexer-scaler-rf-idx2str', '2_'],
  ] as const) {
    it(`${name}: loads and walks every tree like Spark's node rows say`, async () => {
      const dir = prefix ? fixtureStageDir(name, prefix) : fixture(name);
      const trees = await treeRows(dir);
      const stage = await loadStage(dir);
      const numClasses = stage.modelOutputs!.numClasses!;
      const size = Number((await readMetadata(dir)).numFeatures);
      const xs = randomFeatures([...trees.values()].flatMap((t) => [...t.values()]), size, 40);
      const frame = await run(stage, frameWith(stage.inputCols[0]!, xs));
      xs.forEach((x, i) => {
        const votes = new Array<number>(numClasses).fill(0);
        for (const t of [...trees.keys()].sort((a, b) => a - b)) {
          const stats = (referenceLeaf(trees.get(t)!, x).impurityStats as number[]).map(Number);
          const total = stats.reduce((s, v) => s + v, 0);
          if (trees.size > 1 && total === 0) continue;
          stats.forEach((v, k) => (votes[k] = votes[k]! + (trees.size === 1 ? v : v / total)));
        }
        assert.deepEqual([...vectors(frame, 'rawPrediction')[i]!], votes, `raw ${i}`);
        const sum = votes.reduce((s, v) => s + v, 0);
        assert.deepEqual([...vectors(frame, 'probability')[i]!], votes.map((v) => v / sum), `probability ${i}`);
        assert.equal(doubles(frame, 'prediction')[i], votes.indexOf(Math.max(...votes)));
      });
    });
  }
});
