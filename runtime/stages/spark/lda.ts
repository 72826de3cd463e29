/**
 * LocalLDAModel: a document's term counts in, its topic distribution out (topicDistribution,
 * a vector of size k, also the package's prediction). Spark infers it by online variational
 * Bayes (OnlineLDAOptimizer.variationalTopicInference): γ starts as k draws of
 * Gamma(gammaShape, 1/gammaShape), then γ ← α + e^{E[log θ]} ∘ (βᵀ (counts / φnorm)) until
 * the mean change of γ is at most 1e-3; the output is γ normalized to sum 1. An empty
 * document gives zeros.
 *
 * Deterministic: the draws come from a MersenneTwister seeded afresh for every document.
 * The seed is not the saved `seed` param: LocalLDAModel hands its mllib model getSeed in
 * its constructor, before the saved params are set, so every loaded model seeds with the
 * HasSeed default, the Java hashCode of "org.apache.spark.ml.clustering.LocalLDAModel".
 * Data: vocabSize, topicsMatrix (vocabSize × k), docConcentration (α), topicConcentration,
 * gammaShape.
 */
import { vectorSize } from '../../pipeline/frame.js';
import type { StageFactory } from '../../pipeline/stage.js';
import { forEachActive } from './linalg.js';
import { drawGamma, MersenneTwister } from './mersenne-twister.js';
import { failRow } from './stage-helpers.js';
import { denseFromStruct, matrixFromStruct } from './udt.js';

const ML = 'org.apache.spark.ml.clustering.';

/** java.lang.String.hashCode, sign-extended to a long as Scala's `.toLong` does. */
export function javaStringHash(s: string): bigint {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return BigInt(h);
}

/** ψ(x) for x > 0: the recurrence up to x ≥ 6, then the asymptotic series. */
function digamma(x: number): number {
  let result = 0;
  let v = x;
  while (v < 6) {
    result -= 1 / v;
    v += 1;
  }
  const f = 1 / (v * v);
  const series = f * (-1 / 12 + f * (1 / 120 + f * (-1 / 252 + f * (1 / 240 + f * (-1 / 132 + f * (691 / 32760 + f * (-1 / 12)))))));
  return result + Math.log(v) - 0.5 / v + series;
}

/** exp(ψ(x_i) − ψ(Σ x)), LDAUtils.dirichletExpectation exponentiated. */
function expDirichletExpectation(x: Float64Array, out: Float64Array): void {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]!;
  const total = digamma(sum);
  for (let i = 0; i < x.length; i++) out[i] = Math.exp(digamma(x[i]!) - total);
}

const localLda: StageFactory = async (ctx) => {
  const uid = ctx.metadata.uid;
  const rows = await ctx.readData();
  if (rows.length !== 1) throw new Error(`data/ holds ${rows.length} rows, expected 1`);
  const row = rows[0]!;
  const topics = matrixFromStruct(row.topicsMatrix);
  const vocabSize = Number(row.vocabSize);
  const k = topics.numCols;
  if (topics.numRows !== vocabSize) throw new Error(`topicsMatrix has ${topics.numRows} rows for vocabSize ${vocabSize}`);
  const alpha = denseFromStruct(row.docConcentration);
  if (alpha.length !== k) throw new Error(`docConcentration has ${alpha.length} values for ${k} topics`);
  const gammaShape = Number(row.gammaShape);
  const seed = javaStringHash(ML + 'LocalLDAModel');

  // expElogbeta (vocabSize × k, row-major): each topic's column through the Dirichlet expectation.
  const expElogbeta = new Float64Array(vocabSize * k);
  const column = new Float64Array(vocabSize);
  const expColumn = new Float64Array(vocabSize);
  for (let t = 0; t < k; t++) {
    for (let w = 0; w < vocabSize; w++) column[w] = topics.values[w * k + t]!;
    expDirichletExpectation(column, expColumn);
    for (let w = 0; w < vocabSize; w++) expElogbeta[w * k + t] = expColumn[w]!;
  }

  const infer = (ids: number[], counts: number[]): Float64Array => {
    const rng = new MersenneTwister(seed);
    const gamma = Float64Array.from({ length: k }, () => drawGamma(rng, gammaShape, 1.0 / gammaShape));
    const expElogtheta = new Float64Array(k);
    expDirichletExpectation(gamma, expElogtheta);
    const phiNorm = new Float64Array(ids.length);
    const updatePhiNorm = (): void => {
      ids.forEach((w, i) => {
        let s = 0;
        for (let t = 0; t < k; t++) s += expElogbeta[w * k + t]! * expElogtheta[t]!;
        phiNorm[i] = s + 1e-100;
      });
    };
    updatePhiNorm();
    const last = new Float64Array(k);
    let meanChange = 1;
    while (meanChange > 1e-3) {
      last.set(gamma);
      for (let t = 0; t < k; t++) {
        let s = 0;
        ids.forEach((w, i) => (s += expElogbeta[w * k + t]! * (counts[i]! / phiNorm[i]!)));
        gamma[t] = expElogtheta[t]! * s + alpha[t]!;
      }
      expDirichletExpectation(gamma, expElogtheta);
      updatePhiNorm();
      let change = 0;
      for (let t = 0; t < k; t++) change += Math.abs(gamma[t]! - last[t]!);
      meanChange = change / k;
    }
    let norm1 = 0;
    for (let t = 0; t < k; t++) norm1 += Math.abs(gamma[t]!);
    return gamma.map((g) => g / norm1);
  };

  const featuresCol = ctx.params.string('featuresCol', 'features');
  const topicDistributionCol = ctx.params.string('topicDistributionCol', 'topicDistribution');
  return {
    uid,
    className: ctx.metadata.class,
    inputCols: [featuresCol],
    outputCols: [topicDistributionCol],
    modelOutputs: { predictionCol: topicDistributionCol },
    transform(frame) {
      const features = frame.getTyped(featuresCol, 'vector').values;
      const out = new Array<Float64Array | null>(frame.length).fill(null);
      for (let i = 0; i < frame.length; i++) {
        const v = features[i];
        if (!v) {
          failRow(frame, i, `LocalLDAModel: features column "${featuresCol}" is null`, uid);
          continue;
        }
        // Zero counts add exact zeros to Spark's sums, so only the non-zero terms are kept.
        const ids: number[] = [];
        const counts: number[] = [];
        forEachActive(v, (w, c) => {
          if (c === 0) return;
          ids.push(w);
          counts.push(c);
        });
        if (ids.length > 0 && ids[ids.length - 1]! >= vocabSize) {
          failRow(frame, i, `LocalLDAModel: features vector has size ${vectorSize(v)}, the vocabulary ${vocabSize} terms`, uid);
          continue;
        }
        out[i] = ids.length === 0 ? new Float64Array(k) : infer(ids, counts);
      }
      frame.set(topicDistributionCol, { type: 'vector', size: k, values: out });
    },
  };
};

export const ldaStages: Record<string, StageFactory> = {
  [ML + 'LocalLDAModel']: localLda,
};
