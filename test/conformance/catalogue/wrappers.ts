import type { CatalogueEntry } from './entry.js';

/** Issue 17, part a: wrappers, formulas, slicing and SQL (see docs/spark-stages.md). */
export const entries: CatalogueEntry[] = [
  {
    className: 'org.apache.spark.ml.tuning.TrainValidationSplitModel',
    checkedAgainst: 'spark-outputs',
    evidence: 'jpmml40-audit-tvs-dt (Spark 4.0, as a pipeline stage; and saved alone as the package root, a variant in test/conformance/variants.ts)',
  },
  {
    className: 'org.apache.spark.ml.tuning.CrossValidatorModel',
    checkedAgainst: 'spark-outputs',
    evidence: "jpmml40-audit-tvs-dt's bestModel under a CrossValidatorModel saved as Spark's writer lays it out (variant in test/conformance/variants.ts): no real CrossValidatorModel export is at hand",
  },
  {
    className: 'org.apache.spark.ml.classification.OneVsRestModel',
    checkedAgainst: 'documented-example',
    evidence: "Spark docs' rule (the most confident classifier's class) on hand-computed logistic margins, test/unit/spark/one-vs-rest.test.ts; Spark prints no per-row outputs for it",
  },
  {
    className: 'org.apache.spark.ml.feature.RFormulaModel',
    checkedAgainst: 'spark-outputs',
    evidence: 'jpmml35-auto-sql-rformula-linreg',
  },
  {
    className: 'org.apache.spark.ml.feature.ColumnPruner',
    checkedAgainst: 'spark-outputs',
    evidence: 'jpmml35-auto-sql-rformula-linreg (inside the RFormulaModel)',
  },
  {
    className: 'org.apache.spark.ml.feature.VectorAttributeRewriter',
    checkedAgainst: 'spark-outputs',
    evidence: 'jpmml35-auto-sql-rformula-linreg (inside the RFormulaModel; feature names in test/unit/spark/attributes.test.ts)',
  },
  {
    className: 'org.apache.spark.ml.feature.SQLTransformer',
    checkedAgainst: 'spark-outputs',
    evidence: "jpmml35-auto-sql-rformula-linreg (CONCAT); the Spark docs' SQLTransformer example in test/unit/spark/sql-transformer.test.ts",
  },
  {
    className: 'org.apache.spark.ml.feature.VectorSlicer',
    checkedAgainst: 'documented-example',
    evidence: "the Spark docs' VectorSlicer example (by index and by name), test/unit/spark/attributes.test.ts; bbb1991-nslkdd-vecslicer-names-rf is refused: its names need attributes the folder does not record",
  },
];
