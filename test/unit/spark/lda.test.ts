// LocalLDAModel: a document's topic distribution by Spark's seeded variational inference,
// checked against the gensim outputs Spark's LDASuite cites for its toy model.
//   node --import tsx --test test/unit/spark/lda.test.ts
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { denseVectorColumn, int32Column, matrixColumn } from '../../../scripts/examples/spark-writer.js';
import { javaStringHash } from '../../../runtime/stages/spark/lda.js';
import { MersenneTwister } from '../../../runtime/stages/spark/mersenne-twister.js';
import { isRejection, type Outcome } from '../../conformance/types.js';
import { doubleColumn, serveModel, type ModelLayout } from './model-packages.js';

const LDA = 'org.apache.spark.ml.clustering.LocalLDAModel';

// mllib LDASuite.toyModel: vocabSize 6, k 2, alpha 0.01, eta 0.01, gammaShape 100 and this
// topics matrix (column-major, 6 × 2).
const TOY_TOPICS = [1.86738052, 1.94056535, 1.89981687, 0.0833265, 0.07405918, 0.07940597, 0.15081551, 0.08637973, 0.12428538, 1.9474897, 1.94615165, 1.95204124];

/** LocalLDAModelWriter's data: vocabSize, topicsMatrix, docConcentration, topicConcentration, gammaShape. */
function ldaModel(paramMap: Record<string, unknown> = {}): ModelLayout {
  return {
    class: LDA,
    paramMap: { k: 2, optimizer: 'online', seed: 1, ...paramMap },
    defaultParamMap: { featuresCol: 'features', topicDistributionCol: 'topicDistribution', k: 10, seed: Number(javaStringHash('org.apache.spark.ml.clustering.LDA')) },
    folders: {
      data: [
        int32Column('vocabSize', [6]),
        matrixColumn('topicsMatrix', [{ type: 1, numRows: 6, numCols: 2, colPtrs: null, rowIndices: null, values: TOY_TOPICS, isTransposed: false }]),
        denseVectorColumn('docConcentration', [[0.01, 0.01]]),
        doubleColumn('topicConcentration', [0.01]),
        doubleColumn('gammaShape', [100]),
      ],
    },
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

/** LDASuite.toyData: six two-word documents over a six-word vocabulary. */
const TOY_DOCS = [
  [0, 1],
  [1, 2],
  [0, 2],
  [3, 4],
  [3, 5],
  [4, 5],
].map(([a, b]) => ({ features: { size: 6, indices: [a!, b!], values: [1, 1] } }));

describe('LocalLDAModel', () => {
  // LDASuite "LocalLDAModel predict": gensim gives the top topics 0, 0, 0, 1, 1, 1 with
  // weight 0.99504950495049516 each, and the suite holds Spark to them within 1e-3 relative.
  test('LDASuite toy model: each document\'s top topic and its weight agree with gensim within 1e-3', async () => {
    const outputs = await serve(ldaModel(), TOY_DOCS);
    outputs.forEach((o, i) => {
      assert.ok(!isRejection(o), JSON.stringify(o));
      const dist = o.prediction as number[];
      assert.equal(dist.length, 2);
      const top = dist[0]! >= dist[1]! ? 0 : 1;
      assert.equal(top, i < 3 ? 0 : 1, `document ${i}: ${JSON.stringify(dist)}`);
      assert.ok(Math.abs(dist[top]! - 0.99504950495049516) <= 1e-3 * 0.99504950495049516, `document ${i}: ${dist[top]}`);
      assert.ok(Math.abs(dist[0]! + dist[1]! - 1) < 1e-15);
    });
  });

  test('the saved seed does not change the result (Spark seeds every loaded model alike), and the same document always gets the same distribution', async () => {
    const [a] = await serve(ldaModel({ seed: 1 }), [TOY_DOCS[0]!]);
    const [b, c] = await serve(ldaModel({ seed: 987654321 }), [TOY_DOCS[0]!, TOY_DOCS[0]!]);
    assert.deepEqual(a, b);
    assert.deepEqual(b, c);
  });

  test('an empty document gives zeros, as in Spark; a term outside the vocabulary fails its row', async () => {
    const [empty, outside] = await serve(ldaModel(), [{ features: { size: 6, indices: [], values: [] } }, { features: [0, 0, 0, 0, 0, 0, 1] }]);
    assert.deepEqual(empty, { prediction: [0, 0] });
    assert.ok(isRejection(outside) && /the vocabulary 6 terms/.test(outside.message), JSON.stringify(outside));
  });

  // mt19937ar.out, the reference output of Matsumoto and Nishimura's MT19937 for
  // init_by_array({0x123, 0x234, 0x345, 0x456}); Commons Math's MersenneTwisterTest checks
  // the same numbers.
  test('the MersenneTwister gives MT19937\'s reference outputs', () => {
    const rng = new MersenneTwister([0x123, 0x234, 0x345, 0x456]);
    assert.deepEqual([0, 1, 2, 3, 4].map(() => rng.next(32)), [1067595299, 955945823, 477289528, 4107218783, 4228976476]);
  });

  test('a DistributedLDAModel (LDA trained with optimizer="em") is refused, naming the class', async () => {
    const distributed: ModelLayout = { ...ldaModel(), class: 'org.apache.spark.ml.clustering.DistributedLDAModel' };
    await assert.rejects(serveModel(distributed, { input_schema: { features: 'VECTOR' } }), /unknown stage class org\.apache\.spark\.ml\.clustering\.DistributedLDAModel/);
  });

  test('the seed Spark uses is the Java hashCode of the class name', () => {
    // "a".hashCode() is 97; "ab" is 31·97 + 98 = 3105; overflow wraps as a Java int.
    assert.equal(javaStringHash('a'), 97n);
    assert.equal(javaStringHash('ab'), 3105n);
    assert.equal(javaStringHash('polygenelubricants'), -2147483648n);
  });
});
