import type { BinaryModel, MultinomialModel } from './logistic.js';
import { encodeModel } from './onnx/model.js';

/**
 * Logistic regression models as ONNX graphs, the two ways they usually arrive: built from
 * standard operators (what a PyTorch export of a linear layer looks like), and as the
 * ai.onnx.ml LinearClassifier + ZipMap pair that skl2onnx writes for scikit-learn's
 * LogisticRegression.
 */

/**
 * Spark's binomial LogisticRegressionModel as MatMul + Add + Sigmoid, in double precision
 * so it reproduces Spark's probabilities: margin m = x·w + b, p0 = sigmoid(-m), p1 = 1 - p0
 * (Spark computes the second from the first since 3.1). Output `probability` [N, 2].
 */
export function binaryLogisticOnnx(model: BinaryModel, inputName: string): Uint8Array {
  const f = model.weights.length;
  return encodeModel({
    graphName: 'binomial_logistic_regression',
    docString: 'Spark LogisticRegressionModel (binomial) as MatMul + Add + Sigmoid; p0 = sigmoid(-margin), p1 = 1 - p0.',
    inputs: { [inputName]: { tensor: 'double', dims: ['N', f] } },
    outputs: { probability: { tensor: 'double', dims: ['N', 2] } },
    initializers: [
      { name: 'coefficients', type: 'double', dims: [f, 1], data: model.weights },
      { name: 'intercept', type: 'double', dims: [1], data: [model.intercept] },
      { name: 'one', type: 'double', dims: [1], data: [1] },
    ],
    nodes: [
      { op: 'MatMul', inputs: [inputName, 'coefficients'], outputs: ['dot'] },
      { op: 'Add', inputs: ['dot', 'intercept'], outputs: ['margin'] },
      { op: 'Neg', inputs: ['margin'], outputs: ['negative_margin'] },
      { op: 'Sigmoid', inputs: ['negative_margin'], outputs: ['p0'] },
      { op: 'Sub', inputs: ['one', 'p0'], outputs: ['p1'] },
      { op: 'Concat', inputs: ['p0', 'p1'], outputs: ['probability'], attributes: { axis: { i: 1 } } },
    ],
    opsets: { '': 17 },
  });
}

/**
 * A multinomial model the way skl2onnx exports scikit-learn's LogisticRegression with its
 * defaults: float input `float_input`, LinearClassifier (softmax) giving `output_label`,
 * and a ZipMap turning the scores into `output_probability`, a sequence of {class: p} maps.
 */
export function skl2onnxStyleClassifier(model: MultinomialModel, numFeatures: number, classes: readonly number[]): Uint8Array {
  return encodeModel({
    graphName: 'linear_classifier',
    docString: 'Multinomial logistic regression as LinearClassifier + ZipMap (the layout skl2onnx writes).',
    inputs: { float_input: { tensor: 'float', dims: ['N', numFeatures] } },
    outputs: {
      output_label: { tensor: 'int64', dims: ['N'] },
      output_probability: { sequenceOfMaps: { key: 'int64', value: 'float' } },
    },
    nodes: [
      {
        op: 'LinearClassifier',
        domain: 'ai.onnx.ml',
        inputs: ['float_input'],
        outputs: ['output_label', 'probabilities'],
        attributes: {
          coefficients: { floats: Array.from(model.weights) },
          intercepts: { floats: Array.from(model.intercepts) },
          classlabels_ints: { ints: [...classes] },
          multi_class: { i: 1 },
          post_transform: { s: 'SOFTMAX' },
        },
      },
      { op: 'ZipMap', domain: 'ai.onnx.ml', inputs: ['probabilities'], outputs: ['output_probability'], attributes: { classlabels_int64s: { ints: [...classes] } } },
    ],
    opsets: { '': 17, 'ai.onnx.ml': 1 },
  });
}
