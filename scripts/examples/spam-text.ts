import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSparkObject } from '../../runtime/packages/spark-loader.js';
import { Frame, type SparseVector } from '../../runtime/pipeline/frame.js';
import type { Stage } from '../../runtime/pipeline/stage.js';
import { builtinRegistry } from '../../runtime/stages/index.js';
import { ONNX_STAGE_CLASS } from '../../runtime/stages/onnx.js';
import { accuracy, scorePackage } from './evaluate.js';
import { trainBinary, type BinaryModel } from './logistic.js';
import { binaryLogisticOnnx } from './onnx-export.js';
import { CORPUS_PACKAGE, isHeldOut, loadMails, type Mail } from './spam-corpus.js';
import { ENGLISH_STOP_WORDS, logisticRegressionDefaults } from './spark-defaults.js';
import {
  booleanColumn,
  compressedRowMajor,
  dbl,
  denseVectorColumn,
  int32Column,
  int64Column,
  longArrayColumn,
  matrixColumn,
  sparkUid,
  writeData,
  writeMetadata,
  type StageMetadata,
} from './spark-writer.js';
import { percent, writeJson, writeReadme } from './files.js';

/**
 * The text examples: a ham/spam classifier trained here on the SpamAssassin corpus and
 * saved in Spark's PipelineModel layout (Tokenizer → StopWordsRemover → HashingTF → IDF →
 * LogisticRegression), and the same model with the classifier as an ONNX stage.
 *
 * Features are computed by the runtime's own Spark stages loaded from the metadata just
 * written, so the model is trained on exactly what it will be served.
 */

export const NUM_FEATURES = 1 << 14;
export const TRAINING = { iterations: 300, learningRate: 0.02, regParam: 0.001 } as const;
export const LABELS = { '0': 'ham', '1': 'spam' } as const;

const uid = (name: string): string => sparkUid(name, `mlstream-example/spam-text/${name}`);
const UIDS = {
  tokenizer: uid('Tokenizer'),
  stopWords: uid('StopWordsRemover'),
  hashingTF: uid('HashingTF'),
  idf: uid('IDF'),
  logistic: uid('LogisticRegression'),
  onnx: uid('OnnxModel'),
};
const ML = 'org.apache.spark.ml.';

const featureStages: StageMetadata[] = [
  {
    class: `${ML}feature.Tokenizer`,
    uid: UIDS.tokenizer,
    paramMap: { inputCol: 'text', outputCol: 'words' },
    defaultParamMap: { outputCol: `${UIDS.tokenizer}__output` },
  },
  {
    class: `${ML}feature.StopWordsRemover`,
    uid: UIDS.stopWords,
    paramMap: { inputCol: 'words', outputCol: 'filtered' },
    defaultParamMap: { outputCol: `${UIDS.stopWords}__output`, caseSensitive: false, locale: 'en_US', stopWords: ENGLISH_STOP_WORDS },
  },
  {
    class: `${ML}feature.HashingTF`,
    uid: UIDS.hashingTF,
    paramMap: { inputCol: 'filtered', outputCol: 'tf', numFeatures: NUM_FEATURES },
    defaultParamMap: { binary: false, outputCol: `${UIDS.hashingTF}__output`, numFeatures: 262144 },
  },
];

const stageDir = (root: string, i: number, stageUid: string): string => join(root, 'stages', `${i}_${stageUid}`);

async function loadStage(dir: string): Promise<Stage> {
  const [stage] = await loadSparkObject(dir, builtinRegistry());
  return stage!;
}

async function transformAll(stages: readonly Stage[], texts: readonly string[], column: string): Promise<SparseVector[]> {
  const frame = Frame.ofLength(texts.length);
  frame.set('text', { type: 'string', values: [...texts] });
  for (const s of stages) await s.transform(frame);
  if (frame.rejections.length) throw new Error(`featurizing failed: ${frame.rejections[0]!.message}`);
  return frame.getTyped(column, 'vector').values.map((v) => {
    if (v == null || v instanceof Float64Array) throw new Error(`expected sparse vectors in ${column}`);
    return v;
  });
}

/** IDF.fit with minDocFreq 0: idf = log((m + 1) / (df + 1)), df counting documents with a positive term frequency. */
function fitIdf(tf: readonly SparseVector[]): { idf: Float64Array; docFreq: bigint[]; numDocs: number } {
  const df = new Float64Array(NUM_FEATURES);
  for (const v of tf) for (let k = 0; k < v.indices.length; k++) if (v.values[k]! > 0) df[v.indices[k]!]!++;
  const m = tf.length;
  return { idf: df.map((d) => Math.log((m + 1) / (d + 1))), docFreq: Array.from(df, (d) => BigInt(d)), numDocs: m };
}

async function writeConfig(dir: string, description: string): Promise<void> {
  await writeJson(join(dir, 'config.json'), { description, input_schema: { text: 'STRING' }, output_labels: LABELS });
}

async function writePipelineRoot(dir: string, name: string, stageUids: string[]): Promise<void> {
  await writeMetadata(dir, { class: `${ML}PipelineModel`, uid: sparkUid('PipelineModel', `mlstream-example/${name}`), paramMap: { stageUids }, defaultParamMap: {} });
}

export interface SpamBuild {
  readonly train: number;
  readonly heldOut: number;
  readonly sparkAccuracy: number;
  readonly onnxAccuracy: number;
}

export async function buildSpamPackages(outDir: string): Promise<SpamBuild> {
  const mails = await loadMails();
  const train = mails.filter((m) => !isHeldOut(m));
  const held = mails.filter(isHeldOut);
  const spark = join(outDir, 'spam-text');
  await mkdir(spark, { recursive: true });

  for (const [i, meta] of featureStages.entries()) await writeMetadata(stageDir(spark, i, meta.uid), meta);
  const hashing = await Promise.all(featureStages.map((m, i) => loadStage(stageDir(spark, i, m.uid))));
  const tf = await transformAll(hashing, train.map((m) => m.text), 'tf');
  const fitted = fitIdf(tf);
  const idfDir = stageDir(spark, 3, UIDS.idf);
  await writeMetadata(idfDir, {
    class: `${ML}feature.IDFModel`,
    uid: UIDS.idf,
    paramMap: { inputCol: 'tf', outputCol: 'features' },
    defaultParamMap: { outputCol: `${UIDS.idf}__output`, minDocFreq: 0 },
  });
  await writeData(idfDir, [denseVectorColumn('idf', [fitted.idf]), longArrayColumn('docFreq', [fitted.docFreq]), int64Column('numDocs', [BigInt(fitted.numDocs)])]);
  const idfStage = await loadStage(idfDir);
  const features = await transformAll([...hashing, idfStage], train.map((m) => m.text), 'features');
  const model = trainBinary(features, train.map((m) => m.label), NUM_FEATURES, TRAINING);
  await writeLogisticRegression(stageDir(spark, 4, UIDS.logistic), model);
  for (const s of [...hashing, idfStage]) await s.dispose?.();
  await writePipelineRoot(spark, 'spam-text', [...featureStages.map((m) => m.uid), UIDS.idf, UIDS.logistic]);
  await writeConfig(spark, 'Ham or spam for an e-mail text (Subject line and body). Spark PipelineModel layout.');

  const onnx = join(outDir, 'spam-text-onnx');
  await writeOnnxVariant(spark, onnx, model);

  const records = held.map((m) => ({ text: m.text }));
  const labels = held.map((m) => m.label);
  const sparkAccuracy = accuracy((await scorePackage(spark, records)).predictions, labels);
  const onnxAccuracy = accuracy((await scorePackage(onnx, records)).predictions, labels);
  const counts = `${train.length} training and ${held.length} held-out messages`;
  await writeReadme(spark, `Trained by \`npm run build:examples\` (scripts/examples/spam-text.ts) on ${corpusLine(mails)}; ${counts} (held out: the first byte of the message's MD5 divisible by 5). Held-out accuracy: ${percent(sparkAccuracy)}.`);
  await writeReadme(onnx, `The spam-text model with its LogisticRegression exported to ONNX (MatMul + Add + Sigmoid, double precision) as a \`mlstream.OnnxModel\` stage after the same Spark feature stages. Built by \`npm run build:examples\` from ${corpusLine(mails)}; ${counts}. Held-out accuracy: ${percent(onnxAccuracy)}.`);
  return { train: train.length, heldOut: held.length, sparkAccuracy, onnxAccuracy };
}

async function writeLogisticRegression(dir: string, model: BinaryModel): Promise<void> {
  await writeMetadata(dir, {
    class: `${ML}classification.LogisticRegressionModel`,
    uid: UIDS.logistic,
    paramMap: { featuresCol: 'features', labelCol: 'label', regParam: dbl(TRAINING.regParam), maxIter: TRAINING.iterations },
    defaultParamMap: logisticRegressionDefaults(),
  });
  await writeData(dir, [
    int32Column('numClasses', [2]),
    int32Column('numFeatures', [NUM_FEATURES]),
    denseVectorColumn('interceptVector', [[model.intercept]]),
    matrixColumn('coefficientMatrix', [compressedRowMajor(1, NUM_FEATURES, model.weights)]),
    booleanColumn('isMultinomial', [false]),
  ]);
}

async function writeOnnxVariant(spark: string, onnx: string, model: BinaryModel): Promise<void> {
  await mkdir(join(onnx, 'stages'), { recursive: true });
  const copied = [...featureStages.map((m) => m.uid), UIDS.idf];
  for (const [i, stageUid] of copied.entries()) await cp(stageDir(spark, i, stageUid), stageDir(onnx, i, stageUid), { recursive: true });
  const dir = stageDir(onnx, 4, UIDS.onnx);
  await writeMetadata(dir, {
    class: ONNX_STAGE_CLASS,
    uid: UIDS.onnx,
    paramMap: { featuresCol: 'features', probabilityOutput: 'probability', predictionCol: 'prediction', probabilityCol: 'probability' },
    defaultParamMap: {},
  });
  await writeFile(join(dir, 'model.onnx'), binaryLogisticOnnx(model, 'features'));
  await writePipelineRoot(onnx, 'spam-text-onnx', [...copied, UIDS.onnx]);
  await writeConfig(onnx, 'Ham or spam for an e-mail text: Spark feature stages, then the classifier as an ONNX stage.');
}

function corpusLine(mails: readonly Mail[]): string {
  const spam = mails.filter((m) => m.label === 1).length;
  return `the SpamAssassin public corpus from the npm package \`${CORPUS_PACKAGE}\` (${mails.length} messages: ${mails.length - spam} ham, ${spam} spam)`;
}
