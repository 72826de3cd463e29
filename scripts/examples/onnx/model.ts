import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';

/**
 * Writes ONNX model files from a small description, through protobufjs and the subset of
 * the ONNX IR in onnx-subset.proto. Used by the example exporters and by the tests that
 * need real .onnx files; the runtime itself only reads models (through onnxruntime-node).
 */

const root = protobuf.parse(readFileSync(new URL('./onnx-subset.proto', import.meta.url), 'utf8'), { keepCase: true }).root;
const ModelProto = root.lookupType('onnx.ModelProto');

/** TensorProto.DataType codes from the ONNX specification. */
export const DataType = { float: 1, uint8: 2, int8: 3, int32: 6, int64: 7, string: 8, bool: 9, double: 11 } as const;
export type ElemType = keyof typeof DataType;

/** A graph input or output: a tensor (dims: numbers, or names for symbolic ones such as the batch) or a sequence of maps. */
export type ValueType =
  | { readonly tensor: ElemType; readonly dims: readonly (number | string)[] }
  | { readonly sequenceOfMaps: { readonly key: 'int64' | 'string'; readonly value: ElemType } };

export interface Initializer {
  readonly name: string;
  readonly type: 'float' | 'double' | 'int64' | 'int32';
  readonly dims: readonly number[];
  readonly data: ArrayLike<number> | readonly bigint[];
}

export type AttributeValue =
  | { readonly f: number }
  | { readonly i: number }
  | { readonly s: string }
  | { readonly floats: readonly number[] }
  | { readonly ints: readonly number[] }
  | { readonly strings: readonly string[] }
  | { readonly t: Initializer };

export interface GraphNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly domain?: string;
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
}

export interface ModelDescription {
  readonly graphName: string;
  readonly inputs: Readonly<Record<string, ValueType>>;
  readonly outputs: Readonly<Record<string, ValueType>>;
  readonly nodes: readonly GraphNode[];
  readonly initializers?: readonly Initializer[];
  /** Operator sets by domain ('' is the default ai.onnx domain). */
  readonly opsets?: Readonly<Record<string, number>>;
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** IR version 8 (ONNX 1.10+) is read by every onnxruntime release of the last years. */
const IR_VERSION = 8;

export function encodeModel(d: ModelDescription): Uint8Array {
  const opsets = d.opsets ?? { '': 17 };
  const message = {
    ir_version: IR_VERSION,
    producer_name: 'mlstream',
    producer_version: '1',
    ...(d.docString ? { doc_string: d.docString } : {}),
    opset_import: Object.entries(opsets).map(([domain, version]) => ({ domain, version })),
    metadata_props: Object.entries(d.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: d.graphName,
      node: d.nodes.map((n, k) => ({
        input: n.inputs,
        output: n.outputs,
        name: n.name ?? `${n.op}_${k}`,
        op_type: n.op,
        ...(n.domain ? { domain: n.domain } : {}),
        attribute: Object.entries(n.attributes ?? {}).map(([name, v]) => attribute(name, v)),
      })),
      initializer: (d.initializers ?? []).map(tensorProto),
      input: Object.entries(d.inputs).map(([name, t]) => ({ name, type: typeProto(t) })),
      output: Object.entries(d.outputs).map(([name, t]) => ({ name, type: typeProto(t) })),
    },
  };
  const err = ModelProto.verify(message);
  if (err) throw new Error(`invalid ONNX model description: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(message)).finish();
}

function typeProto(t: ValueType): object {
  if ('tensor' in t) {
    return {
      tensor_type: {
        elem_type: DataType[t.tensor],
        shape: { dim: t.dims.map((x) => (typeof x === 'number' ? { dim_value: x } : { dim_param: x })) },
      },
    };
  }
  const { key, value } = t.sequenceOfMaps;
  return {
    sequence_type: {
      elem_type: { map_type: { key_type: DataType[key], value_type: { tensor_type: { elem_type: DataType[value] } } } },
    },
  };
}

/** Tensor bytes go to raw_data, little-endian as the specification requires. */
function tensorProto(t: Initializer): object {
  const n = t.data.length;
  const bytes = t.type === 'float' || t.type === 'int32' ? 4 : 8;
  const view = new DataView(new ArrayBuffer(n * bytes));
  for (let k = 0; k < n; k++) {
    const x = (t.data as ArrayLike<number | bigint>)[k]!;
    if (t.type === 'float') view.setFloat32(k * 4, Number(x), true);
    else if (t.type === 'double') view.setFloat64(k * 8, Number(x), true);
    else if (t.type === 'int32') view.setInt32(k * 4, Number(x), true);
    else view.setBigInt64(k * 8, BigInt(x), true);
  }
  return { name: t.name, dims: t.dims, data_type: DataType[t.type], raw_data: new Uint8Array(view.buffer) };
}

const AttributeTypes = { f: 1, i: 2, s: 3, t: 4, floats: 6, ints: 7, strings: 8 } as const;

function attribute(name: string, v: AttributeValue): object {
  const [kind, value] = Object.entries(v)[0] as [keyof typeof AttributeTypes, unknown];
  const encoded =
    kind === 's'
      ? new TextEncoder().encode(value as string)
      : kind === 'strings'
        ? (value as string[]).map((s) => new TextEncoder().encode(s))
        : kind === 't'
          ? tensorProto(value as Initializer)
          : value;
  return { name, type: AttributeTypes[kind], [kind]: encoded };
}
