/**
 * How each Spark stage sets the ML attributes of the columns it writes (see
 * runtime/pipeline/attributes.ts), following each stage's transformSchema in Spark's source:
 * StringIndexerModel and Bucketizer write nominal columns, Binarizer binary ones,
 * OneHotEncoderModel a group of binary features named after the input's values,
 * VectorIndexerModel marks its categorical features, VectorAssembler concatenates its inputs'
 * attributes under prefixed names, selectors keep the attributes they select. A column whose
 * shape or attributes are unknown here stays unknown downstream: nothing is guessed.
 */
import {
  type Attribute,
  type AttributeSchema,
  type ColumnAttributes,
  group,
  groupAttributes,
  groupSize,
  numValues,
  withName,
} from '../../pipeline/attributes.js';
import { javaDoubleString } from './common.js';

type Produced = Map<string, ColumnAttributes>;

const scalar = (attribute: Attribute): ColumnAttributes => ({ kind: 'scalar', attribute });

/** StringIndexerModel: a nominal column whose values are the labels (and `__unknown` under handleInvalid=keep). */
export function indexedAttributes(outputs: readonly string[], labels: readonly (readonly string[])[], keepInvalid: boolean): Produced {
  return new Map(outputs.map((name, k) => [name, scalar({ kind: 'nominal', name, values: keepInvalid ? [...labels[k]!, '__unknown'] : labels[k]! })]));
}

/** Bucketizer: a nominal column with one value per bucket, named "<low>, <high>" as Scala prints the splits. */
export function bucketAttributes(outputs: readonly string[], splits: readonly Float64Array[]): Produced {
  return new Map(
    outputs.map((name, k) => {
      const s = splits[k]!;
      const values = Array.from({ length: s.length - 1 }, (_, i) => `${javaDoubleString(s[i]!)}, ${javaDoubleString(s[i + 1]!)}`);
      return [name, scalar({ kind: 'nominal', name, values })];
    }),
  );
}

/** Binarizer: a number becomes a binary column; a vector keeps only its size. */
export function binarizedAttributes(before: AttributeSchema, inputs: readonly string[], outputs: readonly string[]): Produced {
  const out: Produced = new Map();
  inputs.forEach((input, k) => {
    const was = before.get(input);
    if (was?.kind === 'scalar') out.set(outputs[k]!, scalar({ kind: 'binary', name: outputs[k]! }));
    else if (was?.kind === 'group') out.set(outputs[k]!, { kind: 'group', size: was.size });
  });
  return out;
}

/**
 * OneHotEncoderModel: one binary feature per category, named by the input's nominal values
 * (or the category numbers), less the last with dropLast, plus `invalidValues` for
 * handleInvalid=keep without dropLast.
 */
export function oneHotAttributes(before: AttributeSchema, inputs: readonly string[], outputs: readonly string[], categorySizes: readonly number[], dropLast: boolean, keepInvalid: boolean): Produced {
  const out: Produced = new Map();
  inputs.forEach((input, k) => {
    const was = before.get(input);
    const attr = was?.kind === 'scalar' ? was.attribute : undefined;
    let names: string[] = Array.from({ length: categorySizes[k]! }, (_, i) => String(i));
    if (attr?.kind === 'nominal' && attr.values) names = [...attr.values];
    else if (attr?.kind === 'nominal' && attr.numValues !== undefined) names = Array.from({ length: attr.numValues }, (_, i) => String(i));
    else if (attr?.kind === 'binary') names = attr.values ? [...attr.values] : ['0', '1'];
    if (dropLast && !keepInvalid) names = names.slice(0, -1);
    else if (!dropLast && keepInvalid) names.push('invalidValues');
    out.set(outputs[k]!, group(names.map((name) => ({ kind: 'binary', name }))));
  });
  return out;
}

/**
 * VectorIndexerModel: a categorical feature with two values becomes binary, with more (or
 * with handleInvalid=keep, which adds `__unknown`) nominal; the rest numeric. Names of the
 * input's attributes are kept.
 */
export function vectorIndexedAttributes(before: AttributeSchema, input: string, output: string, numFeatures: number, categories: ReadonlyMap<number, readonly number[]>, keepInvalid: boolean): Produced {
  const original = groupAttributes(before.get(input));
  const attrs = Array.from({ length: numFeatures }, (_, i): Attribute => {
    const name = original?.[i]?.name;
    const values = categories.get(i);
    if (!values) return original?.[i] ?? { kind: 'numeric' };
    const names = [...values].sort((a, b) => a - b).map(javaDoubleString);
    if (keepInvalid) names.push('__unknown');
    const attr: Attribute = names.length === 2 && !keepInvalid ? { kind: 'binary', values: names } : { kind: 'nominal', values: names };
    return withName(attr, name);
  });
  return new Map([[output, group(attrs)]]);
}

/**
 * VectorAssembler: the inputs' attributes in order — a number keeps its own (named after its
 * column), a vector's are renamed `<column>_<name or position>`. Unknown when any input's
 * size is unknown (Spark would look at the first row).
 */
export function assembledAttributes(before: AttributeSchema, inputs: readonly string[], output: string): Produced {
  const attrs: Attribute[] = [];
  for (const c of inputs) {
    const was = before.get(c);
    if (was?.kind === 'scalar') attrs.push(withName(was.attribute ?? { kind: 'numeric' }, c));
    else if (was?.kind === 'group' && was.attributes) attrs.push(...was.attributes.map((a, i) => withName(a, `${c}_${a.name ?? i}`)));
    else if (was?.kind === 'group' && was.size >= 0) attrs.push(...Array.from({ length: was.size }, (_, i): Attribute => ({ kind: 'numeric', name: `${c}_${i}` })));
    else return new Map();
  }
  return new Map([[output, group(attrs)]]);
}

/** ChiSqSelectorModel, VectorSlicer: the selected features keep their attributes; else only the size is known. */
export function selectedAttributes(before: AttributeSchema, input: string, output: string, selected: readonly number[]): Produced {
  const original = groupAttributes(before.get(input));
  if (original && selected.every((i) => i < original.length)) return new Map([[output, group(selected.map((i) => original[i]!))]]);
  return new Map([[output, { kind: 'group', size: selected.length }]]);
}

/** VectorSizeHint: a vector whose metadata has no size gets the hinted one. */
export function sizeHintAttributes(before: AttributeSchema, input: string, size: number): Produced {
  return groupSize(before.get(input)) === undefined ? new Map([[input, { kind: 'group', size }]]) : new Map();
}

/** VectorAttributeRewriter: every occurrence of each prefix in a feature name is replaced. */
export function rewrittenAttributes(before: AttributeSchema, vectorCol: string, prefixes: ReadonlyMap<string, string>): Produced {
  const original = groupAttributes(before.get(vectorCol));
  if (!original) return new Map();
  const rename = (name: string): string => [...prefixes].reduce((n, [from, to]) => n.replaceAll(from, to), name);
  return new Map([[vectorCol, group(original.map((a) => (a.name === undefined ? a : withName(a, rename(a.name)))))]]);
}

/**
 * Interaction: how many output slots each input feature takes — a nominal feature one per
 * value (at least 1), any other 1. Per input column, one entry per feature; undefined where
 * the column's attributes are unknown, which is then read as numeric.
 */
export function interactionEncoders(before: AttributeSchema, inputs: readonly string[]): (readonly number[] | undefined)[] {
  return inputs.map((c) => {
    const was = before.get(c);
    if (was?.kind === 'scalar') return [Math.max(1, numValues(was.attribute) ?? 1)];
    return was?.attributes?.map((a) => Math.max(1, numValues(a) ?? 1));
  });
}

/** Interaction's output features, named `<a>:<b>` for each combination (Spark's getFeatureAttrs). */
export function interactionAttributes(before: AttributeSchema, inputs: readonly string[], output: string): Produced {
  let combined: Attribute[] | undefined;
  for (const c of [...inputs].reverse()) {
    const was = before.get(c);
    let encoded: Attribute[];
    if (was?.kind === 'scalar') encoded = encodeFeatures([withName(was.attribute ?? { kind: 'numeric' }, was.attribute?.name ?? c)], undefined);
    else if (was?.kind === 'group' && was.attributes) encoded = encodeFeatures(was.attributes, c);
    else return new Map();
    combined = combined
      ? encoded.flatMap((head) => combined!.map((tail): Attribute => ({ kind: 'numeric', name: `${head.name}:${tail.name}` })))
      : encoded;
  }
  return new Map([[output, group(combined ?? [])]]);
}

function encodeFeatures(attrs: readonly Attribute[], groupName: string | undefined): Attribute[] {
  const format = (i: number, name: string | undefined, value?: string): string => [groupName, name ?? String(i), value].filter((p) => p !== undefined).join('_');
  return attrs.flatMap((a, i): Attribute[] => {
    if (a.kind !== 'nominal') return [{ kind: 'numeric', name: format(i, a.name) }];
    const values = a.values ?? Array.from({ length: a.numValues ?? 0 }, (_, j) => String(j));
    return values.map((v) => ({ kind: 'binary', name: format(i, a.name, v) }));
  });
}
