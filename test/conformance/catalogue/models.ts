import type { CatalogueEntry } from './entry.js';

/** The model classes of issue 17 (part c), each with what its numbers were checked against. */
export const entries: CatalogueEntry[] = [
  {
    className: 'org.apache.spark.ml.regression.IsotonicRegressionModel',
    checkedAgainst: 'spark-outputs',
    evidence:
      'spark-catalogue/jpmml35-auto-isotonic-incr (392/392 within 1e-9, increasing); decreasing: mllib IsotonicRegressionSuite "antitonic regression prediction" — test/unit/spark/isotonic.test.ts',
  },
  {
    className: 'org.apache.spark.ml.recommendation.ALSModel',
    checkedAgainst: 'spark-outputs',
    evidence: 'spark-catalogue/sree-movielens-als (5000/5000 equal as float32; coldStartStrategy drop and nan) — test/unit/spark/als.test.ts',
  },
  {
    className: 'org.apache.spark.ml.fpm.FPGrowthModel',
    checkedAgainst: 'documented-example',
    evidence:
      'PySpark FPGrowth docstring (sample_fpgrowth.txt, minConfidence 0.7: [t, s] predicts x, y, z); spark-catalogue/jpmml35-shopping-fpgrowth (no Spark outputs) checked on all 939 training baskets against the rule definition applied to the raw transactions — test/unit/spark/fpgrowth.test.ts',
  },
  {
    className: 'org.apache.spark.ml.classification.FMClassificationModel',
    checkedAgainst: 'documented-example',
    evidence:
      'PySpark FMClassifier docstring probabilities (within 1e-4: its linear term is printed to 4 decimals); spark-catalogue/mpabon-airbnb-fm (no Spark outputs) served end to end — test/unit/spark/factorization-machines.test.ts',
  },
  {
    className: 'org.apache.spark.ml.regression.FMRegressionModel',
    checkedAgainst: 'documented-example',
    evidence:
      'PySpark FMRegressor docstring predictions (within 2e-4, printed coefficients); pairwise term against the scaladoc formula worked by hand — test/unit/spark/factorization-machines.test.ts',
  },
  {
    className: 'org.apache.spark.ml.regression.AFTSurvivalRegressionModel',
    checkedAgainst: 'documented-example',
    evidence:
      'PySpark AFTSurvivalRegression docstring (prediction and 9 quantiles, 4 decimals); AFTSurvivalRegressionSuite R survreg predictions and quantiles (within 1e-3 / 3e-3 relative, the printed coefficients) — test/unit/spark/survival.test.ts',
  },
  {
    className: 'org.apache.spark.ml.clustering.GaussianMixtureModel',
    checkedAgainst: 'documented-example',
    evidence:
      'PySpark GaussianMixture docstring (printed gaussians; rows 2/3 and 4/5 share clusters); probabilities against the normal density worked by hand (1e-14) — test/unit/spark/gaussian-mixture.test.ts',
  },
  {
    className: 'org.apache.spark.ml.clustering.BisectingKMeansModel',
    checkedAgainst: 'documented-example',
    evidence:
      'PySpark BisectingKMeans docstring (centres [0.5, 0.5] / [8.5, 8.5], rows 0/1 and 2/3 share clusters); greedy tree descent and cosine cost per ClusteringTreeNode.predict, worked by hand — test/unit/spark/bisecting-kmeans.test.ts',
  },
  {
    className: 'org.apache.spark.ml.clustering.LocalLDAModel',
    checkedAgainst: 'documented-example',
    evidence:
      'mllib LDASuite "LocalLDAModel predict": toy model, top topics and weights against gensim (within 1e-3, the suite\'s bound); MT19937 against the reference init_by_array outputs — test/unit/spark/lda.test.ts',
  },
];
