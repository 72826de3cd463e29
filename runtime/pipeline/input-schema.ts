import { Frame, type Column, type NarrowNumber, type Vector, sparseFromPairs } from './frame.js';

/**
 * Column types a package's `input_schema` may declare. The seed's three (STRING, INTEGER,
 * DOUBLE) keep their meaning; the rest are what real Spark pipelines take as input.
 * A type may end in `?` (e.g. `DOUBLE?`) to allow null, which Spark stages such as
 * Imputer or `handleInvalid=keep` handle.
 */
export const INPUT_TYPES = ['STRING', 'INTEGER', 'LONG', 'FLOAT', 'DOUBLE', 'BOOLEAN', 'ARRAY<STRING>', 'VECTOR'] as const;
export type InputType = (typeof INPUT_TYPES)[number];

export interface InputField {
  readonly name: string;
  readonly type: InputType;
  readonly nullable: boolean;
}

export function parseInputSchema(schema: Record<string, string>): InputField[] {
  return Object.entries(schema).map(([name, decl]) => {
    const nullable = decl.endsWith('?');
    const type = (nullable ? decl.slice(0, -1) : decl).toUpperCase() as InputType;
    if (!INPUT_TYPES.includes(type)) throw new Error(`column "${name}": unknown type "${decl}" (known: ${INPUT_TYPES.join(', ')})`);
    return { name, type, nullable };
  });
}

/**
 * Turns validated records into a columnar frame. Records have been checked against the
 * schema already, so values are trusted to have the declared shape.
 */
export function buildFrame(records: readonly Record<string, unknown>[], fields: readonly InputField[]): Frame {
  const frame = Frame.ofLength(records.length);
  for (const field of fields) frame.set(field.name, buildColumn(records, field));
  return frame;
}

function buildColumn(records: readonly Record<string, unknown>[], field: InputField): Column {
  const n = records.length;
  const { name } = field;
  switch (field.type) {
    case 'STRING':
      return { type: 'string', values: records.map((r) => (r[name] == null ? null : String(r[name]))) };
    case 'BOOLEAN':
      return { type: 'boolean', values: records.map((r) => (r[name] == null ? null : Boolean(r[name]))) };
    case 'ARRAY<STRING>':
      return { type: 'strings', values: records.map((r) => (r[name] == null ? null : (r[name] as unknown[]).map(String))) };
    case 'VECTOR': {
      let size = -1;
      const values = records.map((r) => {
        const v = r[name] == null ? null : toVector(r[name]);
        if (v) size = v instanceof Float64Array ? v.length : v.size;
        return v;
      });
      return { type: 'vector', size, values };
    }
    default: {
      const values = new Float64Array(n);
      let nulls: Uint8Array | undefined;
      for (let i = 0; i < n; i++) {
        const v = records[i]![name];
        if (v == null) {
          nulls ??= new Uint8Array(n);
          nulls[i] = 1;
          values[i] = NaN;
        } else {
          values[i] = field.type === 'FLOAT' ? Math.fround(Number(v)) : Number(v);
        }
      }
      const sqlType = field.type === 'DOUBLE' ? undefined : (field.type as NarrowNumber);
      return { type: 'double', values, ...(nulls ? { nulls } : {}), ...(sqlType ? { sqlType } : {}) };
    }
  }
}

/** A dense array of numbers, or `{size, indices, values}` for a sparse vector. */
export function toVector(v: unknown): Vector {
  if (Array.isArray(v)) return Float64Array.from(v, Number);
  const s = v as { size: number; indices: number[]; values: number[] };
  return sparseFromPairs(s.size, s.indices, s.values);
}
