import { encodeModel, type ModelProto } from '../../src/io/onnx/proto.js';

/**
 * Writes small ONNX files for tests through the same official schema the importer reads
 * (protobufjs encoding of onnx.proto), so error paths can be exercised without fixtures.
 */

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, number | number[] | string | { tensor: TensorSpec } | { float: number }>;
}

export interface TensorSpec {
  name?: string;
  dims: number[];
  /** FLOAT (1) by default; INT64 is 7. */
  dataType?: number;
  floats?: number[];
  int64s?: number[];
  raw?: Uint8Array;
  external?: { location: string; offset?: number; length?: number };
}

export interface ModelSpec {
  nodes: NodeSpec[];
  inputs: { name: string; dims?: number[]; elemType?: number }[];
  outputs: string[];
  initializers?: (TensorSpec & { name: string })[];
  opset?: number;
}

const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 };

function tensor(t: TensorSpec): Record<string, unknown> {
  const out: Record<string, unknown> = { name: t.name ?? '', dims: t.dims, data_type: t.dataType ?? 1 };
  if (t.raw) out['raw_data'] = t.raw;
  if (t.floats) out['float_data'] = t.floats;
  if (t.int64s) out['int64_data'] = t.int64s;
  if (t.external) {
    out['data_location'] = 1;
    out['external_data'] = Object.entries(t.external).map(([key, value]) => ({ key, value: String(value) }));
  }
  return out;
}

function attribute(name: string, v: NonNullable<NodeSpec['attrs']>[string]): Record<string, unknown> {
  if (typeof v === 'string') return { name, type: ATTR.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: ATTR.INT, i: v } : { name, type: ATTR.FLOAT, f: v };
  if (Array.isArray(v)) return { name, type: ATTR.INTS, ints: v };
  if ('float' in v) return { name, type: ATTR.FLOAT, f: v.float };
  return { name, type: ATTR.TENSOR, t: tensor(v.tensor) };
}

export function makeModel(spec: ModelSpec): Uint8Array {
  const valueInfo = (name: string, dims?: number[], elemType = 1) => ({
    name,
    type: { tensor_type: { elem_type: elemType, shape: dims ? { dim: dims.map((d) => ({ dim_value: d })) } : undefined } },
  });
  const model = {
    ir_version: 8,
    producer_name: 'convkit-test',
    opset_import: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: 'test',
      node: spec.nodes.map((n, i) => ({
        name: n.name ?? `n${i}`,
        op_type: n.op,
        domain: n.domain ?? '',
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      input: spec.inputs.map((i) => valueInfo(i.name, i.dims, i.elemType)),
      output: spec.outputs.map((o) => valueInfo(o)),
      initializer: (spec.initializers ?? []).map(tensor),
    },
  };
  return encodeModel(model as unknown as ModelProto);
}

/** Float32 values as little-endian raw_data bytes. */
export function rawFloats(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}
