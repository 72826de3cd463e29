/**
 * Spark's ML attributes: the column metadata (ml.attribute) that Spark keeps in a
 * DataFrame's schema, not in its rows. StringIndexer marks its output nominal, OneHotEncoder
 * writes a group of binary features, VectorAssembler concatenates its inputs' attributes, and
 * later stages read them: Interaction one-hot expands a nominal input, VectorSlicer resolves
 * feature names. Like Spark's, they belong to the columns of the pipeline, not to a batch, so
 * they are worked out once when a pipeline is built (Pipeline, from each stage's
 * `attributes`) and every batch's frame has the same ones.
 */
import type { InputField } from './input-schema.js';

/** One feature: a number, a 0/1 flag, or a category index. */
export type Attribute =
  | { readonly kind: 'numeric'; readonly name?: string }
  | { readonly kind: 'binary'; readonly name?: string; readonly values?: readonly string[] }
  | { readonly kind: 'nominal'; readonly name?: string; readonly numValues?: number; readonly values?: readonly string[] };

/**
 * What a column's type and metadata say: a number column may have one attribute (none for a
 * raw input); a vector column has a group, whose attributes may be unknown (only its size,
 * or nothing, is recorded).
 */
export type ColumnAttributes =
  | { readonly kind: 'scalar'; readonly attribute?: Attribute }
  | { readonly kind: 'group'; readonly size: number; readonly attributes?: readonly Attribute[] };

/** Columns to their attributes; a column with no entry is not known to be a number or a vector. */
export type AttributeSchema = ReadonlyMap<string, ColumnAttributes>;

/** The input columns as Spark would see them: numbers and vectors, with no attributes. */
export function inputAttributes(fields: readonly InputField[]): Map<string, ColumnAttributes> {
  const out = new Map<string, ColumnAttributes>();
  for (const f of fields) {
    if (f.type === 'VECTOR') out.set(f.name, { kind: 'group', size: -1 });
    else if (f.type !== 'STRING' && f.type !== 'ARRAY<STRING>') out.set(f.name, { kind: 'scalar' });
  }
  return out;
}

/** The number of values a nominal attribute declares, from numValues or its value names. */
export function numValues(a: Attribute | undefined): number | undefined {
  if (a?.kind !== 'nominal') return undefined;
  return a.numValues ?? a.values?.length;
}

export function withName(a: Attribute, name: string | undefined): Attribute {
  if (name === undefined) {
    const { name: _dropped, ...rest } = a;
    return rest as Attribute;
  }
  return { ...a, name };
}

/** A vector column's group with known attributes. */
export function group(attributes: readonly Attribute[]): ColumnAttributes {
  return { kind: 'group', size: attributes.length, attributes };
}

/** The attributes of a vector column when they are known, one per element. */
export function groupAttributes(c: ColumnAttributes | undefined): readonly Attribute[] | undefined {
  return c?.kind === 'group' ? c.attributes : undefined;
}

/** The number of elements a vector column's metadata records; undefined when it records none. */
export function groupSize(c: ColumnAttributes | undefined): number | undefined {
  return c?.kind === 'group' && c.size >= 0 ? c.size : undefined;
}
