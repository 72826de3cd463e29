// FPGrowthModel: the association rules Spark derives from the saved itemsets, and the
// consequents a basket fires, checked against PySpark's documented example and against
// the definition of a rule applied to the training transactions of a real export.
//   node --import tsx --test test/unit/spark/fpgrowth.test.ts
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { int64Column } from '../../../scripts/examples/spark-writer.js';
import { readCsv } from '../../conformance/csv.js';
import { isRejection } from '../../conformance/types.js';
import { catalogueFixture, loadCatalogueFixture, skipWithoutCatalogue } from './catalogue-package.js';
import { serveModel, stringArrayColumn, type ModelLayout } from './model-packages.js';

const FPGROWTH = 'org.apache.spark.ml.fpm.FPGrowthModel';

/** Every non-empty subset of a basket, items kept in the basket's order. */
function subsets<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let mask = 1; mask < 1 << items.length; mask++) out.push(items.filter((_, k) => mask & (1 << k)));
  return out;
}

/** How many transactions contain every item of `set`. */
function support(transactions: readonly Set<string>[], set: readonly string[]): number {
  return transactions.filter((t) => set.every((x) => t.has(x))).length;
}

// The transactions of data/mllib/sample_fpgrowth.txt, as PySpark's FPGrowth docstring
// shows them (data.show), fitted there with minSupport=0.2, minConfidence=0.7.
const SAMPLE_FPGROWTH = ['r z h k p', 'z y x w v u t s', 's x o n r', 'x z y m t s q e', 'z', 'x z y r q t p'].map((l) => l.split(' '));

/**
 * The frequent itemsets FPGrowth saves for those transactions: every itemset in at least
 * ceil(0.2 × 6) = 2 of them. Items are listed in one global order (descending count, as
 * Spark's FP-tree ranks them, then reversed as Spark emits them), so an antecedent reads as
 * the same sequence as the itemset it names.
 */
function docstringItemsets(): { items: string[]; freq: number }[] {
  const transactions = SAMPLE_FPGROWTH.map((t) => new Set(t));
  const counts = new Map<string, number>();
  for (const t of SAMPLE_FPGROWTH) for (const x of t) counts.set(x, (counts.get(x) ?? 0) + 1);
  const order = [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || a.localeCompare(b)).reverse();
  const seen = new Map<string, { items: string[]; freq: number }>();
  for (const t of SAMPLE_FPGROWTH) {
    for (const s of subsets(order.filter((x) => t.includes(x)))) {
      const freq = support(transactions, s);
      if (freq >= 2) seen.set(s.join(' '), { items: s, freq });
    }
  }
  return [...seen.values()];
}

function fpGrowthModel(itemsets: { items: string[]; freq: number }[], paramMap: Record<string, unknown>): ModelLayout {
  return {
    class: FPGROWTH,
    paramMap,
    defaultParamMap: { predictionCol: 'prediction', minSupport: 0.3, itemsCol: 'items', minConfidence: 0.8 },
    extra: { numTrainingRecords: 6 },
    folders: { data: [stringArrayColumn('items', itemsets.map((s) => s.items)), int64Column('freq', itemsets.map((s) => BigInt(s.freq)))] },
  };
}

describe('FPGrowthModel', () => {
  test('PySpark docstring: the basket [t, s] predicts x, y and z (minConfidence 0.7)', async () => {
    const itemsets = docstringItemsets();
    // The rows the docstring prints from fpm.freqItemsets.sort("items").show(5): the
    // written itemsets must hold them, so the model is the one the docstring fitted.
    const byItems = new Map(itemsets.map((s) => [[...s.items].sort().join(','), s.freq]));
    assert.deepEqual(['p', 'p,r', 'p,r,z', 'p,z', 'q'].map((k) => byItems.get(k)), [2, 2, 2, 2, 2]);
    const served = await serveModel(fpGrowthModel(itemsets, { minSupport: 0.2, minConfidence: 0.7, predictionCol: 'newPrediction' }), {
      input_schema: { items: 'ARRAY<STRING>' },
    });
    try {
      const [out] = await served.run([{ items: ['t', 's'] }]);
      assert.ok(!isRejection(out));
      assert.deepEqual([...(out!.prediction as string[])].sort(), ['x', 'y', 'z']);
    } finally {
      await served.close();
    }
  });

  test('a basket no rule fires for, and a null basket, predict an empty array', async () => {
    const served = await serveModel(fpGrowthModel(docstringItemsets(), { minSupport: 0.2, minConfidence: 0.7 }), {
      input_schema: { items: 'ARRAY<STRING>?' },
    });
    try {
      assert.deepEqual(await served.run([{ items: ['unseen'] }, { items: null }]), [{ prediction: [] }, { prediction: [] }]);
    } finally {
      await served.close();
    }
  });

  test('jpmml35-shopping-fpgrowth: every one of the 939 training baskets predicts exactly the items a rule of confidence ≥ 0.01 adds', { skip: skipWithoutCatalogue }, async () => {
    const dir = catalogueFixture('jpmml35-shopping-fpgrowth');
    const long = readCsv(join(dir, 'sample/input-Shopping.csv'));
    const byTransaction = new Map<string, string[]>();
    for (const [transaction, item] of long.rows) byTransaction.set(transaction!, [...(byTransaction.get(transaction!) ?? []), item!]);
    const baskets = [...byTransaction.values()];
    assert.equal(baskets.length, 939);
    // Spark's definitions (FPGrowth minSupport 0.01 of 939 rows: itemsets in ≥ 10 baskets;
    // a rule S ⇒ y has confidence support(S ∪ {y}) / support(S)), applied to the raw
    // transactions rather than to the saved itemsets the stage reads.
    const transactions = baskets.map((b) => new Set(b));
    const allItems = [...new Set(baskets.flat())];
    const expected = baskets.map((basket) => {
      const fired = new Set<string>();
      for (const s of subsets(basket)) {
        const antecedent = support(transactions, s);
        if (antecedent < 10) continue;
        for (const y of allItems) {
          if (basket.includes(y) || fired.has(y)) continue;
          const union = support(transactions, [...s, y]);
          if (union >= 10 && union / antecedent >= 0.01) fired.add(y);
        }
      }
      return [...fired].sort();
    });
    const served = await loadCatalogueFixture('jpmml35-shopping-fpgrowth', { input_schema: { items: 'ARRAY<STRING>' } });
    try {
      const outputs = await served.run(baskets.map((items) => ({ items })));
      const got = outputs.map((o) => (isRejection(o) ? o.message : [...(o.prediction as string[])].sort()));
      const differing = got.map((g, i) => ({ i, got: g, want: expected[i] })).filter(({ got: g, want }) => JSON.stringify(g) !== JSON.stringify(want));
      assert.deepEqual(differing.slice(0, 3), []);
      assert.ok(expected.some((e) => e.length > 0), 'some basket fires a rule');
    } finally {
      await served.close();
    }
  });
});
