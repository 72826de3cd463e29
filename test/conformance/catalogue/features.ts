import type { CatalogueEntry } from './entry.js';

/**
 * The feature classes added in issue 17b and what checks their numbers. Where no shared
 * export carries Spark's outputs, the tests write a package in Spark's on-disk layout and
 * compare with outputs Spark's own docs, docstrings or test suites print.
 */

const ML = 'org.apache.spark.ml.feature.';
const TRANSFORMS = 'test/unit/spark/feature-transforms.test.ts';
const MODELS = 'test/unit/spark/feature-models.test.ts';

export const entries: CatalogueEntry[] = [
  {
    className: ML + 'DCT',
    checkedAgainst: 'spark-outputs',
    evidence: `spark-catalogue/hydro21-dct (its sample/ holds the outputs Spark printed for the docs DCTExample; DCT has no fitted state); inverse=true by ${TRANSFORMS}`,
  },
  { className: ML + 'ElementwiseProduct', checkedAgainst: 'documented-example', evidence: `Spark docs ElementwiseProductExample, ${TRANSFORMS}` },
  { className: ML + 'PolynomialExpansion', checkedAgainst: 'documented-example', evidence: `Spark docs PolynomialExpansionExample (degree 3), ${TRANSFORMS}` },
  {
    className: ML + 'FeatureHasher',
    checkedAgainst: 'documented-example',
    evidence: `Spark docs FeatureHasherExample and the pyspark FeatureHasher docstring (categoricalCols), ${TRANSFORMS}`,
  },
  { className: ML + 'RobustScalerModel', checkedAgainst: 'documented-example', evidence: `RobustScalerSuite (scaling, centering, both, sparse), ${TRANSFORMS}` },
  {
    className: ML + 'UnivariateFeatureSelectorModel',
    checkedAgainst: 'documented-example',
    evidence: `pyspark test_univariate_selector (selectedFeatures [3]) with ChiSqSelector's docstring output for that selection, ${TRANSFORMS}`,
  },
  { className: ML + 'VarianceThresholdSelectorModel', checkedAgainst: 'documented-example', evidence: `pyspark VarianceThresholdSelector docstring, ${TRANSFORMS}` },
  {
    className: ML + 'TargetEncoderModel',
    checkedAgainst: 'documented-example',
    evidence: `TargetEncoderSuite (binary, continuous, smoothing, unseen keep/error, unseen null), ${MODELS}`,
  },
  {
    className: ML + 'MinHashLSHModel',
    checkedAgainst: 'documented-example',
    evidence: `MinHashLSHSuite "hashFunction" and "empty vector", ${MODELS}; spark-catalogue/ylc-anime-minhashlsh loads and serves (no Spark outputs saved)`,
  },
  { className: ML + 'BucketedRandomProjectionLSHModel', checkedAgainst: 'documented-example', evidence: `BucketedRandomProjectionLSHSuite "hashFunction" (3.x and 2.x saves), ${MODELS}` },
  { className: ML + 'OneHotEncoder', checkedAgainst: 'documented-example', evidence: `Spark 2.x docs OneHotEncoderExample (after a StringIndexerModel, dropLast), ${TRANSFORMS}` },
];
