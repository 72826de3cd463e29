// GaussianMixtureModel: component densities (pseudo-inverse for singular covariances),
// ε-smoothed normalized probabilities and their argmax, checked against PySpark's
// docstring and the multivariate normal density written out by hand.
//   node --import tsx --test test/unit/spark/gaussian-mixture.test.ts
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SchemaElement } from 'hyparquet';
import type { DataColumn } from '../../../scripts/examples/spark-writer.js';
import { isRejection, type Outcome } from '../../conformance/types.js';
import { doubleArrayColumn, serveModel, type ModelLayout } from './model-packages.js';

const GMM = 'org.apache.spark.ml.clustering.GaussianMixtureModel';

const list = (name: string, element: SchemaElement[]): SchemaElement[] => [
  { name, repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST', logical_type: { type: 'LIST' } },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  ...element,
];
const BYTE: SchemaElement = { name: 'type', type: 'INT32', repetition_type: 'REQUIRED', converted_type: 'INT_8', logical_type: { type: 'INTEGER', bitWidth: 8, isSigned: true } };
const intList = (name: string): SchemaElement[] => list(name, [{ name: 'element', type: 'INT32', repetition_type: 'REQUIRED' }]);
const doubleList = (name: string): SchemaElement[] => list(name, [{ name: 'element', type: 'DOUBLE', repetition_type: 'REQUIRED' }]);

/** `mus`: array of mllib VectorUDT structs, as GaussianMixtureModelWriter saves them. */
function vectorArrayColumn(name: string, vectors: number[][]): DataColumn {
  return {
    name,
    data: [vectors.map((values) => ({ type: 1, size: null, indices: null, values }))],
    schema: list(name, [
      { name: 'element', repetition_type: 'OPTIONAL', num_children: 4 },
      BYTE,
      { name: 'size', type: 'INT32', repetition_type: 'OPTIONAL' },
      ...intList('indices'),
      ...doubleList('values'),
    ]),
    sparkType: { type: 'array', elementType: { type: 'udt', class: 'org.apache.spark.mllib.linalg.VectorUDT' }, containsNull: true },
    nullable: true,
  };
}

/** `sigmas`: array of mllib MatrixUDT structs (dense, column-major). */
function matrixArrayColumn(name: string, matrices: number[][][]): DataColumn {
  return {
    name,
    data: [
      matrices.map((rows) => ({
        type: 1,
        numRows: rows.length,
        numCols: rows.length,
        colPtrs: null,
        rowIndices: null,
        values: rows[0]!.flatMap((_, c) => rows.map((r) => r[c]!)),
        isTransposed: false,
      })),
    ],
    schema: list(name, [
      { name: 'element', repetition_type: 'OPTIONAL', num_children: 7 },
      BYTE,
      { name: 'numRows', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'numCols', type: 'INT32', repetition_type: 'REQUIRED' },
      ...intList('colPtrs'),
      ...intList('rowIndices'),
      ...doubleList('values'),
      { name: 'isTransposed', type: 'BOOLEAN', repetition_type: 'REQUIRED' },
    ]),
    sparkType: { type: 'array', elementType: { type: 'udt', class: 'org.apache.spark.mllib.linalg.MatrixUDT' }, containsNull: true },
    nullable: true,
  };
}

function gmmModel(weights: number[], means: number[][], covariances: number[][][]): ModelLayout {
  return {
    class: GMM,
    paramMap: { k: weights.length },
    defaultParamMap: { featuresCol: 'features', predictionCol: 'prediction', probabilityCol: 'probability', k: 2 },
    folders: { data: [doubleArrayColumn('weights', [weights]), vectorArrayColumn('mus', means), matrixArrayColumn('sigmas', covariances)] },
  };
}

async function serve(model: ModelLayout, records: Record<string, unknown>[]): Promise<Outcome[]> {
  const served = await serveModel(model, { input_schema: { features: 'VECTOR' } });
  try {
    return await served.run(records);
  } finally {
    await served.close();
  }
}

describe('GaussianMixtureModel', () => {
  // PySpark GaussianMixture docstring (k=3, seed=10 on six 2-d points): the fitted
  // gaussians print means (0.825, 0.8675), (-0.87, -0.72), (-0.055, -0.075) and covariances
  // [0.0056, -0.0051, -0.0051, 0.0046], [0.0016, 0.0016, 0.0016, 0.0016],
  // [0.002, -0.0011, -0.0011, 0.0006] (4 decimals; the first two are singular or worse as
  // printed, which the pseudo-inverse handles); the docstring checks rows 4 and 5, and rows
  // 2 and 3, share a cluster. Weights are not printed; the points split 2/2/2.
  test('PySpark docstring: rows 2 and 3 share a cluster, rows 4 and 5 share another (printed gaussians)', async () => {
    const model = gmmModel(
      [1 / 3, 1 / 3, 1 / 3],
      [
        [0.825, 0.8675],
        [-0.87, -0.72],
        [-0.055, -0.075],
      ],
      [
        [
          [0.0056, -0.0051],
          [-0.0051, 0.0046],
        ],
        [
          [0.0016, 0.0016],
          [0.0016, 0.0016],
        ],
        [
          [0.002, -0.0011],
          [-0.0011, 0.0006],
        ],
      ],
    );
    const points = [[-0.1, -0.05], [-0.01, -0.1], [0.9, 0.8], [0.75, 0.935], [-0.83, -0.68], [-0.91, -0.76]];
    const outputs = await serve(model, points.map((features) => ({ features })));
    const clusters = outputs.map((o) => (isRejection(o) ? o.message : o.prediction));
    assert.equal(clusters[2], clusters[3]);
    assert.equal(clusters[4], clusters[5]);
    assert.deepEqual([clusters[2], clusters[4]], [0, 1]);
    for (const o of outputs) {
      assert.ok(!isRejection(o));
      const sum = Object.values(o.probability!).reduce((s, p) => s + p, 0);
      assert.ok(Math.abs(sum - 1) < 1e-15, `probabilities sum to ${sum}`);
    }
  });

  // The density MultivariateGaussian documents: (2π)^(−k/2) det(Σ)^(−½) exp(−½ (x−μ)ᵀ Σ⁻¹ (x−μ)),
  // written out for diagonal covariances, then p_i = ε + w_i·pdf_i normalized.
  test('probabilities equal the normal densities worked out by hand, ε-smoothed and normalized', async () => {
    const EPS = 2.220446049250313e-16;
    const model = gmmModel(
      [0.3, 0.7],
      [
        [0, 0],
        [1, 2],
      ],
      [
        [
          [1, 0],
          [0, 4],
        ],
        [
          [0.5, 0],
          [0, 2],
        ],
      ],
    );
    const x = [0.5, 1.0];
    const pdf0 = Math.exp(-0.5 * (0.25 / 1 + 1 / 4)) / (2 * Math.PI * Math.sqrt(4));
    const pdf1 = Math.exp(-0.5 * (0.25 / 0.5 + 1 / 2)) / (2 * Math.PI * Math.sqrt(1));
    const p = [EPS + 0.3 * pdf0, EPS + 0.7 * pdf1];
    const want = p.map((v) => v / (p[0]! + p[1]!));
    const [out] = await serve(model, [{ features: x }]);
    assert.ok(!isRejection(out));
    assert.ok(Math.abs(out!.probability!['0']! - want[0]!) < 1e-14 && Math.abs(out!.probability!['1']! - want[1]!) < 1e-14, JSON.stringify(out));
    assert.equal(out!.prediction, want[1]! > want[0]! ? 1 : 0);
  });

  test('a point far from every component still gets probabilities (ε), and a wrong-size vector fails its row', async () => {
    const model = gmmModel([0.5, 0.5], [[0], [1]], [[[1e-4]], [[1e-4]]]);
    const [far, wrong] = await serve(model, [{ features: [1e6] }, { features: [1, 2] }]);
    assert.deepEqual(far, { prediction: 0, probability: { '0': 0.5, '1': 0.5 } });
    assert.ok(isRejection(wrong) && /features vector has size 2, the model expects 1/.test(wrong.message), JSON.stringify(wrong));
  });
});
