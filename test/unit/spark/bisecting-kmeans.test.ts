// BisectingKMeansModel: the saved clustering tree (mllib layout under data/) walked from
// the root to a leaf, by squared Euclidean or cosine cost, checked against PySpark's
// docstring and against Spark's descent rule on a tree where it differs from the nearest leaf.
//   node --import tsx --test test/unit/spark/bisecting-kmeans.test.ts
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { denseVectorColumn, int32Column, int64Column } from '../../../scripts/examples/spark-writer.js';
import { isRejection, type Outcome } from '../../conformance/types.js';
import { doubleColumn, intArrayColumn, serveModel, type ModelLayout } from './model-packages.js';

const BKM = 'org.apache.spark.ml.clustering.BisectingKMeansModel';

interface Node {
  readonly index: number;
  readonly center: number[];
  readonly children?: number[];
}

/**
 * The ml stage's metadata plus the mllib model Spark 3.x saves under data/ (format 3.0:
 * rootId, distanceMeasure, trainingCost; rows index, size, center, norm, cost, height,
 * children). Sizes, costs and heights do not affect prediction and are written as 0.
 */
function bisectingModel(nodes: Node[], rootId: number, distanceMeasure = 'euclidean'): ModelLayout {
  return {
    class: BKM,
    paramMap: { k: nodes.filter((n) => !n.children).length, distanceMeasure },
    defaultParamMap: { featuresCol: 'features', predictionCol: 'prediction', distanceMeasure: 'euclidean' },
    files: {
      'data/metadata/part-00000': `${JSON.stringify({ class: 'org.apache.spark.mllib.clustering.BisectingKMeansModel', version: '3.0', rootId, distanceMeasure, trainingCost: 0 })}\n`,
    },
    folders: {
      'data/data': [
        int32Column('index', nodes.map((n) => n.index)),
        int64Column('size', nodes.map(() => 0n)),
        denseVectorColumn('center', nodes.map((n) => n.center)),
        doubleColumn('norm', nodes.map((n) => Math.hypot(...n.center))),
        doubleColumn('cost', nodes.map(() => 0)),
        doubleColumn('height', nodes.map(() => 0)),
        intArrayColumn('children', nodes.map((n) => n.children ?? [])),
      ],
    },
  };
}

async function predictions(model: ModelLayout, points: number[][]): Promise<unknown[]> {
  const served = await serveModel(model, { input_schema: { features: 'VECTOR' } });
  try {
    const out: Outcome[] = await served.run(points.map((features) => ({ features })));
    return out.map((o) => (isRejection(o) ? o.message : o.prediction));
  } finally {
    await served.close();
  }
}

describe('BisectingKMeansModel', () => {
  // PySpark BisectingKMeans docstring: k=2 on (0,0), (1,1), (9,8), (8,9) gives
  // clusterCenters [0.5, 0.5] and [8.5, 8.5] (leaves 0 and 1 under a root at their mean);
  // rows 0 and 1 share a prediction, rows 2 and 3 share the other.
  test('PySpark docstring: the four points split into clusters 0 and 1 by the printed centres', async () => {
    const model = bisectingModel(
      [
        { index: 0, center: [0.5, 0.5] },
        { index: 1, center: [8.5, 8.5] },
        { index: -1, center: [4.5, 4.5], children: [0, 1] },
      ],
      -1,
    );
    assert.deepEqual(await predictions(model, [[0, 0], [1, 1], [9, 8], [8, 9]]), [0, 0, 1, 1]);
  });

  // ClusteringTreeNode.predict descends greedily: at the root, (3.5, 0) is closer to the
  // right leaf (5, 0) (cost 2.25) than to the left inner node (0, 0) (12.25), so it lands in
  // cluster 2 although leaf 1 at (3, 0) is nearer (0.25). (2.4, 0) goes left (5.76 < 6.76),
  // then to leaf 1 (0.36 < 29.16).
  test('the tree is descended greedily, so a point can land away from its nearest leaf, as in Spark', async () => {
    const model = bisectingModel(
      [
        { index: 0, center: [-3, 0] },
        { index: 1, center: [3, 0] },
        { index: -2, center: [0, 0], children: [0, 1] },
        { index: 2, center: [5, 0] },
        { index: -1, center: [2, 0], children: [-2, 2] },
      ],
      -1,
    );
    assert.deepEqual(await predictions(model, [[3.5, 0], [2.4, 0], [-4, 1]]), [2, 1, 0]);
  });

  // Cosine cost 1 − a·b/(‖a‖‖b‖): (1, 0.1) is at a small angle to leaf (1, 0) and (0.1, 1)
  // to leaf (0, 1), whatever their lengths; a zero vector has no cosine distance.
  test('distanceMeasure=cosine compares angles, and a zero vector fails its row', async () => {
    const model = bisectingModel(
      [
        { index: 0, center: [1, 0] },
        { index: 1, center: [0, 1] },
        { index: -1, center: [0.5, 0.5], children: [0, 1] },
      ],
      -1,
      'cosine',
    );
    const out = await predictions(model, [[100, 10], [0.1, 1], [0, 0]]);
    assert.deepEqual(out.slice(0, 2), [0, 1]);
    assert.match(String(out[2]), /cosine distance is not defined for a zero vector/);
  });

  test('a tree naming a missing child refuses the package', async () => {
    const model = bisectingModel([{ index: -1, center: [0, 0], children: [0, 7] }, { index: 0, center: [1, 1] }], -1);
    await assert.rejects(serveModel(model, { input_schema: { features: 'VECTOR' } }), /the clustering tree has no node 7/);
  });
});
