/**
 * mlstream's row-wise Spark ML coverage beside MLeap's and JPMML-SparkML's, for the README
 * table `npm run conformance` writes. What the two other tools cover is taken from their own
 * public documentation (sources below, read on 2026-12-03); mlstream's column is the stage
 * registry, so it cannot claim a class that does not load. A class issue 17 added names its
 * part (17a wrappers, 17b features, 17c models); in parentheses while not registered.
 */

export const COVERAGE_SOURCES = [
  "MLeap: the documentation's \"Supported Transformers\" page (combust/mleap-docs, core-concepts/transformers/support.md) and mleap-spark's op registry (mleap-spark/src/main/resources/reference.conf).",
  'JPMML-SparkML: the "Supported libraries → Apache Spark ML" list of its README (version 2.4.4, 10 February 2025); IsotonicRegression from its later test resources (the jpmml35-auto-isotonic-incr fixture).',
];

export interface CoverageRow {
  /** Class name under org.apache.spark.ml. */
  readonly spark: string;
  readonly mleap: boolean;
  readonly jpmml: boolean;
  /** The part of issue 17 that adds the class, where it is new. */
  readonly part?: '17a' | '17b' | '17c';
  readonly note?: string;
}

const row = (spark: string, mleap: boolean, jpmml: boolean, part?: CoverageRow['part'], note?: string): CoverageRow => ({
  spark,
  mleap,
  jpmml,
  ...(part ? { part } : {}),
  ...(note ? { note } : {}),
});

export const COVERAGE: readonly CoverageRow[] = [
  row('feature.Binarizer', true, true),
  row('feature.BucketedRandomProjectionLSHModel', true, false, '17b'),
  row('feature.Bucketizer', true, true, undefined, 'also what a fitted QuantileDiscretizer saves'),
  row('feature.ChiSqSelectorModel', true, true),
  row('feature.ColumnPruner', false, true, '17a'),
  row('feature.CountVectorizerModel', true, true),
  row('feature.DCT', true, false, '17b'),
  row('feature.ElementwiseProduct', true, false, '17b'),
  row('feature.FeatureHasher', false, false, '17b'),
  row('feature.HashingTF', true, false),
  row('feature.IDFModel', true, true),
  row('feature.ImputerModel', true, true),
  row('feature.IndexToString', true, true, undefined, "MLeap's ReverseStringIndexer"),
  row('feature.Interaction', true, true),
  row('feature.MaxAbsScalerModel', true, true),
  row('feature.MinHashLSHModel', true, false, '17b'),
  row('feature.MinMaxScalerModel', true, true),
  row('feature.NGram', true, true),
  row('feature.Normalizer', true, false),
  row('feature.OneHotEncoder', false, false, '17b', 'the legacy 2.x transformer'),
  row('feature.OneHotEncoderModel', true, true),
  row('feature.PCAModel', true, true),
  row('feature.PolynomialExpansion', true, false, '17b'),
  row('feature.RFormulaModel', false, true, '17a'),
  row('feature.RegexTokenizer', true, true),
  row('feature.RobustScalerModel', false, false, '17b'),
  row('feature.SQLTransformer', false, true, '17a', 'SELECT … FROM __THIS__ subset (docs/spark-stages.md)'),
  row('feature.StandardScalerModel', true, true),
  row('feature.StopWordsRemover', true, true),
  row('feature.StringIndexerModel', true, true),
  row('feature.TargetEncoderModel', false, false, '17b', 'Spark 4.x'),
  row('feature.Tokenizer', true, true),
  row('feature.UnivariateFeatureSelectorModel', false, false, '17b'),
  row('feature.VarianceThresholdSelectorModel', false, false, '17b'),
  row('feature.VectorAssembler', true, true),
  row('feature.VectorAttributeRewriter', false, true, '17a'),
  row('feature.VectorIndexerModel', true, true),
  row('feature.VectorSizeHint', false, true),
  row('feature.VectorSlicer', true, true, '17a'),
  row('feature.Word2VecModel', true, false),
  row('classification.DecisionTreeClassificationModel', true, true),
  row('classification.FMClassificationModel', false, false, '17c'),
  row('classification.GBTClassificationModel', true, true),
  row('classification.LinearSVCModel', true, true, undefined, "MLeap's SupportVectorMachines"),
  row('classification.LogisticRegressionModel', true, true),
  row('classification.MultilayerPerceptronClassificationModel', true, true),
  row('classification.NaiveBayesModel', true, true),
  row('classification.OneVsRestModel', true, false, '17a'),
  row('classification.RandomForestClassificationModel', true, true),
  row('clustering.BisectingKMeansModel', true, false, '17c'),
  row('clustering.GaussianMixtureModel', true, false, '17c'),
  row('clustering.KMeansModel', true, true),
  row('clustering.LocalLDAModel', true, false, '17c'),
  row('fpm.FPGrowthModel', false, true, '17c'),
  row('recommendation.ALSModel', false, false, '17c'),
  row('regression.AFTSurvivalRegressionModel', true, false, '17c'),
  row('regression.DecisionTreeRegressionModel', true, true),
  row('regression.FMRegressionModel', false, false, '17c'),
  row('regression.GBTRegressionModel', true, true),
  row('regression.GeneralizedLinearRegressionModel', true, true),
  row('regression.IsotonicRegressionModel', true, true, '17c'),
  row('regression.LinearRegressionModel', true, true),
  row('regression.RandomForestRegressionModel', true, true),
  row('tuning.CrossValidatorModel', false, true, '17a'),
  row('tuning.TrainValidationSplitModel', false, true, '17a'),
];

const ML = 'org.apache.spark.ml.';

/** The table: ✓ where a tool serves the class; mlstream's column from the registry, with the part of issue 17 that added it. */
export function renderCoverage(registered: ReadonlySet<string>): string {
  const count = (f: (r: CoverageRow) => boolean): number => COVERAGE.filter(f).length;
  const served = (r: CoverageRow): boolean => registered.has(ML + r.spark);
  const lines = ['| Spark class | MLeap | JPMML-SparkML | mlstream | note |', '|---|:---:|:---:|:---:|---|'];
  for (const r of COVERAGE) {
    const ours = served(r) ? `✓${r.part ? ` ${r.part}` : ''}` : r.part ? `(${r.part})` : '';
    lines.push(`| \`${r.spark}\` | ${r.mleap ? '✓' : ''} | ${r.jpmml ? '✓' : ''} | ${ours} | ${r.note ?? ''} |`);
  }
  const pending = COVERAGE.some((r) => r.part && !served(r)) ? '; in parentheses: not registered on this branch yet' : '';
  lines.push(`| **classes** | **${count((r) => r.mleap)}** | **${count((r) => r.jpmml)}** | **${count(served)}** | 17a, 17b, 17c: added by that part of issue 17${pending} |`);
  return [...lines, '', ...COVERAGE_SOURCES.map((s) => `- ${s}`)].join('\n');
}
