/**
 * FPGrowthModel: an itemset in (ARRAY<STRING>), the consequents of the association rules it
 * fires out, minus the items it already holds. Spark saves only the frequent itemsets
 * (`data/`: items, freq) and derives the rules after loading, as done here at load:
 * for each itemset and each of its items, the rule (itemset − item) ⇒ item, kept when the
 * antecedent is itself a saved itemset and freq(itemset) / freq(antecedent) ≥ minConfidence.
 *
 * Rule order: Spark joins the candidates with the itemsets through an RDD shuffle, so the
 * order of its rules, and of the consequents in a prediction, follows the partitioning of
 * the cluster that loaded the model, not the model. Here it is the candidates' own order
 * (itemsets as saved, items in itemset order); the set of consequents is Spark's.
 */
import type { StageFactory } from '../../pipeline/stage.js';

const ML = 'org.apache.spark.ml.fpm.';

interface Rule {
  readonly antecedent: readonly string[];
  readonly consequent: string;
  readonly confidence: number;
}

/** A key for an item sequence: Spark joins on the sequence, so order matters. */
const keyOf = (items: readonly string[]): string => JSON.stringify(items);

/** mllib's AssociationRules.run over the saved itemsets (single-item consequents). */
function associationRules(itemsets: readonly { items: readonly string[]; freq: number }[], minConfidence: number): Rule[] {
  const freqOf = new Map<string, number>();
  for (const s of itemsets) freqOf.set(keyOf(s.items), s.freq);
  const rules: Rule[] = [];
  for (const { items, freq } of itemsets) {
    for (const item of items) {
      const antecedent = items.filter((x) => x !== item);
      if (antecedent.length === 0) continue;
      const antecedentFreq = freqOf.get(keyOf(antecedent));
      if (antecedentFreq === undefined) continue;
      const confidence = freq / antecedentFreq;
      if (confidence >= minConfidence) rules.push({ antecedent, consequent: item, confidence });
    }
  }
  return rules;
}

function readItemsets(rows: Record<string, unknown>[]): { items: string[]; freq: number }[] {
  return rows.map((r, k) => {
    if (!Array.isArray(r.items)) throw new Error(`data/ row ${k} has no items array`);
    const freq = Number(r.freq);
    if (!Number.isFinite(freq) || freq <= 0) throw new Error(`data/ row ${k} has freq ${String(r.freq)}`);
    return { items: (r.items as unknown[]).map(String), freq };
  });
}

/**
 * A null itemset counts as empty (Spark's transform says so); the prediction is never
 * null, so a basket no rule fires for gets an empty array.
 */
const fpGrowth: StageFactory = async (ctx) => {
  const itemsCol = ctx.params.string('itemsCol', 'items');
  const predictionCol = ctx.params.string('predictionCol', 'prediction');
  const minConfidence = ctx.params.number('minConfidence', 0.8);
  if (!(minConfidence >= 0 && minConfidence <= 1)) throw new Error(`minConfidence ${minConfidence} is outside [0, 1]`);
  const rules = associationRules(readItemsets(await ctx.readData()), minConfidence);
  return {
    uid: ctx.metadata.uid,
    className: ctx.metadata.class,
    inputCols: [itemsCol],
    outputCols: [predictionCol],
    modelOutputs: { predictionCol },
    transform(frame) {
      const col = frame.getTyped(itemsCol, 'strings');
      const out = col.values.map((basket) => {
        const have = new Set(basket ?? []);
        const consequents = new Set<string>();
        for (const rule of rules) {
          if (have.has(rule.consequent) || consequents.has(rule.consequent)) continue;
          if (rule.antecedent.every((x) => have.has(x))) consequents.add(rule.consequent);
        }
        return [...consequents];
      });
      frame.set(predictionCol, { type: 'strings', values: out });
    },
  };
};

export const fpmStages: Record<string, StageFactory> = {
  [ML + 'FPGrowthModel']: fpGrowth,
};
