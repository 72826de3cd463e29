/**
 * The Spark-layout writer lives in runtime/packages/spark-writer.ts, since `mlstream train`
 * writes its package versions with it; the example builders and tests import it from here.
 */
export * from '../../runtime/packages/spark-writer.js';
