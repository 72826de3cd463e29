import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PackageError } from '../packages/errors.js';
import { readMetadata, readParquetRows, stageDirName } from '../packages/spark-format.js';
import { denseFromStruct, matrixFromStruct } from '../stages/spark/udt.js';
import type { Algorithm, ModelState } from './model.js';

/**
 * `--warm-start PACKAGE_DIR`: the first model of a run (no checkpoint yet) starts from the
 * weights of a saved model instead of zeros — a binomial LogisticRegressionModel, a
 * LinearRegressionModel or a KMeansModel as the last stage of the package (a version
 * written by `mlstream train`, or a Spark export with the same features). Its intercept
 * needs `--intercept`. k-means centres start with weight 0, as a KMeansModel keeps none:
 * the first micro-batch's points then count as much as the saved centres' history.
 */

const EXPECTED: Record<Algorithm, string> = {
  'logistic-sgd': 'org.apache.spark.ml.classification.LogisticRegressionModel',
  'linear-sgd': 'org.apache.spark.ml.regression.LinearRegressionModel',
  kmeans: 'org.apache.spark.ml.clustering.KMeansModel',
};

async function modelStageDir(dir: string): Promise<string> {
  const root = await readMetadata(dir);
  const uids = root.paramMap?.stageUids;
  if (!Array.isArray(uids) || uids.length === 0) return dir;
  const last = uids.length - 1;
  const names = await readdir(join(dir, 'stages'));
  const name = names.find((n) => n === stageDirName(last, uids.length, String(uids[last])) || n === `${last}_${String(uids[last])}`);
  if (!name) throw new PackageError(`no folder for the last stage (${String(uids[last])})`, join(dir, 'stages'));
  return join(dir, 'stages', name);
}

export async function warmStartState(dir: string, algorithm: Algorithm, intercept: boolean): Promise<ModelState> {
  const stageDir = await modelStageDir(dir);
  const meta = await readMetadata(stageDir);
  if (meta.class !== EXPECTED[algorithm]) throw new PackageError(`--warm-start for ${algorithm} needs a ${EXPECTED[algorithm]} as the last stage, found ${meta.class}`, stageDir);
  const rows = await readParquetRows(stageDir);
  const none = new Float64Array(0);
  if (algorithm === 'kmeans') {
    const centers = rows.sort((a, b) => Number(a.clusterIdx) - Number(b.clusterIdx)).map((r) => denseFromStruct(r.clusterCenter));
    const dim = centers[0]?.length ?? 0;
    const params = new Float64Array(centers.length * dim);
    centers.forEach((c, i) => params.set(c, i * dim));
    return { params, clusterWeights: new Float64Array(centers.length), dim };
  }
  const row = rows[0];
  if (!row) throw new PackageError('the model stage has no data row', stageDir);
  let coefficients: Float64Array;
  let b: number;
  if (algorithm === 'logistic-sgd') {
    if (row.isMultinomial) throw new PackageError('--warm-start needs a binomial logistic regression', stageDir);
    coefficients = matrixFromStruct(row.coefficientMatrix).values;
    b = denseFromStruct(row.interceptVector)[0] ?? 0;
  } else {
    coefficients = denseFromStruct(row.coefficients);
    b = Number(row.intercept);
  }
  if (b !== 0 && !intercept) throw new PackageError(`the model has an intercept (${b}): train with --intercept to keep it`, stageDir);
  const params = new Float64Array(coefficients.length + (intercept ? 1 : 0));
  params.set(coefficients);
  if (intercept) params[coefficients.length] = b;
  return { params, clusterWeights: none, dim: coefficients.length };
}
