import { ConvkitError } from '../../../tensor/errors.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { encodeModel, type AttributeProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from '../proto.js';
import { DataType } from '../tensor-proto.js';

/**
 * Collects the nodes and initializers of an ONNX graph as it is emitted, keeps every value
 * name unique, and assembles the ModelProto. Converters only say "a Conv of these values with
 * these attributes"; naming, constants and the protobuf layout live here.
 */

/** An attribute value; the kind is explicit because 1 and 1.0 are different ONNX types. */
export type Attr = { i: number } | { f: number } | { ints: readonly number[] } | { floats: readonly number[] } | { s: string };

const ATTR_TYPE = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/** One graph input or output: its name and sizes, where a string is a symbolic size ('N'). */
export interface ValueSpec {
  name: string;
  dims: readonly (number | string)[] | null;
  elemType?: number;
}

/** ONNX's IR version that goes with an opset (onnx/helper.py VERSION_TABLE). */
export function irVersionFor(opset: number): number {
  if (opset <= 8) return 3;
  if (opset <= 9) return 4;
  if (opset <= 10) return 5;
  if (opset <= 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

function attribute(name: string, v: Attr): Partial<AttributeProto> {
  if ('i' in v) return { name, type: ATTR_TYPE.INT, i: v.i };
  if ('f' in v) return { name, type: ATTR_TYPE.FLOAT, f: v.f };
  if ('ints' in v) return { name, type: ATTR_TYPE.INTS, ints: [...v.ints] };
  if ('floats' in v) return { name, type: ATTR_TYPE.FLOATS, floats: [...v.floats] };
  return { name, type: ATTR_TYPE.STRING, s: new TextEncoder().encode(v.s) };
}

export function valueInfo(v: ValueSpec): ValueInfoProto {
  const shape = v.dims === null ? null : { dim: v.dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) };
  return { name: v.name, type: { tensor_type: { elem_type: v.elemType ?? DataType.FLOAT, shape } } };
}

/** A FLOAT initializer over `values` (not copied: pass an array the proto may own). */
export function floatTensorProto(name: string, dims: readonly number[], values: Float32Array): TensorProto {
  // raw_data is little-endian; so is every platform Node and browsers run on.
  const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return { name, dims: [...dims], data_type: DataType.FLOAT, raw_data: raw } as Partial<TensorProto> as TensorProto;
}

function int64TensorProto(name: string, values: readonly number[]): TensorProto {
  const raw = new Uint8Array(new BigInt64Array(values.map((v) => BigInt(v))).buffer);
  return { name, dims: [values.length], data_type: DataType.INT64, raw_data: raw } as Partial<TensorProto> as TensorProto;
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly taken = new Set<string>();
  private readonly constants = new Map<string, string>();

  constructor(reserved: Iterable<string> = []) {
    for (const n of reserved) this.taken.add(n);
  }

  /** `base` if free, else `base_2`, `base_3`, ...; the name is then taken. */
  unique(base: string): string {
    const stem = base || 'value';
    let name = stem;
    for (let k = 2; this.taken.has(name); k++) name = `${stem}_${k}`;
    this.taken.add(name);
    return name;
  }

  /** Marks a name as used (graph inputs, names copied from another graph). */
  reserve(name: string): void {
    this.taken.add(name);
  }

  /**
   * Appends a node; returns its output names (`outputs` of them, named after `name`). An
   * empty input name stands for an omitted optional input.
   */
  nodeN(op: string, inputs: readonly string[], attrs: Record<string, Attr | undefined>, name: string, outputs: number): string[] {
    const nodeName = this.unique(name || op);
    const outs = Array.from({ length: outputs }, (_, i) => (i === 0 ? this.unique(nodeName) : this.unique(`${nodeName}:${i}`)));
    const attribute_ = Object.entries(attrs)
      .filter((e): e is [string, Attr] => e[1] !== undefined)
      .map(([k, v]) => attribute(k, v));
    this.nodes.push({ name: nodeName, op_type: op, input: [...inputs], output: outs, domain: '', attribute: attribute_ } as NodeProto);
    return outs;
  }

  /** Appends a node with one output and returns that output's name. */
  node(op: string, inputs: readonly string[], attrs: Record<string, Attr | undefined> = {}, name = ''): string {
    return this.nodeN(op, inputs, attrs, name, 1)[0]!;
  }

  /** A float initializer holding a copy of `t`'s values. */
  weight(name: string, t: Tensor, dims: readonly number[] = t.shape): string {
    if (t.dtype !== 'float32') throw new ConvkitError(`ONNX export: weight '${name}' must be float32, got ${t.dtype}`);
    return this.floats(name, Float32Array.from(t.values() as Float32Array), dims);
  }

  /** A float initializer with these values (which it keeps: pass a fresh array) and dims. */
  floats(name: string, values: Float32Array, dims: readonly number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== values.length) throw new ConvkitError(`ONNX export: initializer '${name}' has ${values.length} values for dims [${dims}]`);
    const unique = this.unique(name);
    this.initializers.push(floatTensorProto(unique, dims, values));
    return unique;
  }

  /** A float scalar constant (shared between nodes that ask for the same value). */
  scalar(v: number): string {
    const key = `f:${Object.is(v, -0) ? '-0' : v}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.floats(`const_${String(v).replace(/[^0-9a-zA-Z.-]/g, '_')}`, new Float32Array([v]), []);
      this.constants.set(key, name);
    }
    return name;
  }

  /** A 1-d int64 constant (shapes, pads, axes), shared between nodes that ask for the same. */
  int64s(values: readonly number[], hint = 'ints'): string {
    const key = `i:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.unique(hint);
      this.initializers.push(int64TensorProto(name, values));
      this.constants.set(key, name);
    }
    return name;
  }

  /** The ModelProto for these graph inputs and outputs. */
  model(opts: { opset: number; inputs: readonly ValueSpec[]; outputs: readonly ValueSpec[]; graphName: string; docString?: string }): ModelProto {
    const graph = {
      name: opts.graphName,
      node: this.nodes,
      initializer: this.initializers,
      input: opts.inputs.map(valueInfo),
      output: opts.outputs.map(valueInfo),
      value_info: [],
      sparse_initializer: [],
      doc_string: opts.docString ?? '',
    };
    return {
      ir_version: irVersionFor(opts.opset),
      opset_import: [{ domain: '', version: opts.opset }],
      producer_name: 'convkit',
      producer_version: '0.1.0',
      domain: '',
      model_version: 1,
      graph,
      functions: [],
    } as ModelProto;
  }
}

/**
 * Serializes a ModelProto with the official schema, as a plain Uint8Array (in Node protobufjs
 * returns a Buffer, whose slice() is a view rather than the copy Uint8Array's is).
 */
export function encodeOnnx(model: ModelProto): Uint8Array {
  const b = encodeModel(model);
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
