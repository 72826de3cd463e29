import type Protobuf from 'protobufjs';
import { lazyRequire } from '../lazy.js';

const protobuf = lazyRequire<typeof Protobuf>('protobufjs');

/**
 * skl2onnx ends classifiers with a ZipMap node (ai.onnx.ml) that turns the [N, C]
 * probability tensor into a sequence of {class: probability} maps. onnxruntime-node cannot
 * hand non-tensor values to JavaScript ("Non tensor type is temporarily not supported"),
 * so before the session is created such a ZipMap is cut off: the graph output becomes the
 * tensor the ZipMap read, and its class labels are kept to key the probabilities.
 *
 * The model is edited at the protobuf wire level: only the graph's node and output
 * entries are looked at, every other byte is copied unchanged, so fields this file does
 * not know survive.
 */

export interface UnwrappedZipMap {
  /** The graph output the ZipMap produced (e.g. `output_probability`). */
  readonly output: string;
  /** The tensor now exposed instead (the ZipMap's input). */
  readonly tensor: string;
  /** The ZipMap's class labels, in probability-column order. */
  readonly classLabels: readonly (number | string)[];
}

const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_OUTPUT = 12;
const NODE_INPUT = 1;
const NODE_OUTPUT = 2;
const NODE_OP_TYPE = 4;
const NODE_ATTRIBUTE = 5;
const NODE_DOMAIN = 7;
const ATTR_NAME = 1;
const ATTR_INTS = 8;
const ATTR_STRINGS = 9;
const VALUE_INFO_NAME = 1;
const LENGTH_DELIMITED = 2;
const FLOAT = 1;

interface Field {
  readonly number: number;
  readonly wireType: number;
  /** The whole field (tag included), to copy it unchanged. */
  readonly raw: Uint8Array;
  /** The payload of a length-delimited field. */
  readonly body?: Uint8Array;
  /** The value of a varint field. */
  readonly varint?: number;
}

function fields(buf: Uint8Array): Field[] {
  const reader = protobuf().Reader.create(buf);
  const out: Field[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    const number = tag >>> 3;
    const wireType = tag & 7;
    let body: Uint8Array | undefined;
    let varint: number | undefined;
    if (wireType === LENGTH_DELIMITED) body = reader.bytes();
    else if (wireType === 0) varint = Number(reader.int64());
    else reader.skipType(wireType);
    out.push({ number, wireType, raw: buf.subarray(start, reader.pos), ...(body ? { body } : {}), ...(varint !== undefined ? { varint } : {}) });
  }
  return out;
}

const text = (b: Uint8Array | undefined): string => (b ? new TextDecoder().decode(b) : '');

interface ZipMapNode {
  readonly input: string;
  readonly output: string;
  readonly classLabels: (number | string)[];
}

function readZipMap(node: Uint8Array): ZipMapNode | undefined {
  const fs = fields(node);
  const op = text(fs.find((f) => f.number === NODE_OP_TYPE)?.body);
  const domain = text(fs.find((f) => f.number === NODE_DOMAIN)?.body);
  if (op !== 'ZipMap' || domain !== 'ai.onnx.ml') return undefined;
  const input = text(fs.find((f) => f.number === NODE_INPUT)?.body);
  const output = text(fs.find((f) => f.number === NODE_OUTPUT)?.body);
  const classLabels: (number | string)[] = [];
  for (const a of fs.filter((f) => f.number === NODE_ATTRIBUTE)) {
    const afs = fields(a.body!);
    const name = text(afs.find((f) => f.number === ATTR_NAME)?.body);
    if (name === 'classlabels_strings') {
      for (const f of afs) if (f.number === ATTR_STRINGS) classLabels.push(text(f.body));
    } else if (name === 'classlabels_int64s') {
      for (const f of afs) {
        if (f.number !== ATTR_INTS) continue;
        if (f.wireType === LENGTH_DELIMITED) {
          const r = protobuf().Reader.create(f.body!);
          while (r.pos < r.len) classLabels.push(Number(r.int64()));
        } else classLabels.push(f.varint!);
      }
    }
  }
  return { input, output, classLabels };
}

function lengthDelimited(field: number, body: Uint8Array): Uint8Array {
  return protobuf().Writer.create().uint32((field << 3) | LENGTH_DELIMITED).bytes(body).finish();
}

/** A graph output declared as a float tensor of unknown shape: onnxruntime infers the rest. */
function floatOutput(name: string): Uint8Array {
  const elemType = protobuf().Writer.create().uint32((1 << 3) | 0).int32(FLOAT).finish();
  const typeProto = lengthDelimited(1, elemType);
  return Buffer.concat([lengthDelimited(VALUE_INFO_NAME, new TextEncoder().encode(name)), lengthDelimited(2, typeProto)]);
}

function rewriteGraph(graph: Uint8Array, unwrapped: UnwrappedZipMap[]): Uint8Array {
  const fs = fields(graph);
  const outputNames = new Set(fs.filter((f) => f.number === GRAPH_OUTPUT).map((f) => text(fields(f.body!).find((g) => g.number === VALUE_INFO_NAME)?.body)));
  const cut = new Map<string, ZipMapNode>();
  const chunks: Uint8Array[] = [];
  for (const f of fs) {
    if (f.number === GRAPH_NODE) {
      const z = readZipMap(f.body!);
      if (z && outputNames.has(z.output)) {
        cut.set(z.output, z);
        continue;
      }
    }
    if (f.number === GRAPH_OUTPUT) {
      const name = text(fields(f.body!).find((g) => g.number === VALUE_INFO_NAME)?.body);
      const z = cut.get(name) ?? findLater(fs, name);
      if (z) {
        chunks.push(lengthDelimited(GRAPH_OUTPUT, floatOutput(z.input)));
        unwrapped.push({ output: name, tensor: z.input, classLabels: z.classLabels });
        continue;
      }
    }
    chunks.push(f.raw);
  }
  return Buffer.concat(chunks);
}

/** Writers emit fields in number order (nodes before outputs), but protobuf allows any: look the ZipMap up. */
function findLater(fs: Field[], output: string): ZipMapNode | undefined {
  for (const f of fs) {
    if (f.number !== GRAPH_NODE) continue;
    const z = readZipMap(f.body!);
    if (z && z.output === output) return z;
  }
  return undefined;
}

/**
 * Returns the model with graph-output ZipMaps removed: the same bytes when it has none, or
 * when they are not protobuf at all (onnxruntime then says what is wrong with the file).
 */
export function unwrapZipMaps(model: Uint8Array): { model: Uint8Array; zipMaps: UnwrappedZipMap[] } {
  try {
    return unwrap(model);
  } catch {
    return { model, zipMaps: [] };
  }
}

function unwrap(model: Uint8Array): { model: Uint8Array; zipMaps: UnwrappedZipMap[] } {
  const top = fields(model);
  const graphField = top.find((f) => f.number === MODEL_GRAPH);
  if (!graphField?.body || !Buffer.from(graphField.body.buffer, graphField.body.byteOffset, graphField.body.byteLength).includes('ZipMap')) {
    return { model, zipMaps: [] };
  }
  const zipMaps: UnwrappedZipMap[] = [];
  const graph = rewriteGraph(graphField.body, zipMaps);
  if (zipMaps.length === 0) return { model, zipMaps };
  const rewritten = Buffer.concat(top.map((f) => (f === graphField ? lengthDelimited(MODEL_GRAPH, graph) : f.raw)));
  return { model: rewritten, zipMaps };
}
