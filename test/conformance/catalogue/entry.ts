/** One Spark class the runtime serves, and what its numbers were checked against. */
export interface CatalogueEntry {
  /** Full Spark class name, e.g. org.apache.spark.ml.feature.DCT. */
  readonly className: string;
  /** 'spark-outputs': a real export's Spark outputs (sample/); 'documented-example': outputs printed by Spark's docs, examples or test suites. */
  readonly checkedAgainst: 'spark-outputs' | 'documented-example';
  /** The fixture folder, or the documented example and the test file that checks it. */
  readonly evidence: string;
}
