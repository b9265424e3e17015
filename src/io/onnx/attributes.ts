import { ConvkitError } from '../../tensor/errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { int64, utf8, type AttributeProto, type TensorProto } from './proto.js';

/**
 * Typed access to a node's attributes, with defaults as the ONNX operator specs give them.
 * A wrong type is an error naming the node and the attribute.
 */

/** AttributeProto.AttributeType values. */
const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10, SPARSE_TENSOR: 11, SPARSE_TENSORS: 12, TYPE_PROTO: 13, TYPE_PROTOS: 14 } as const;
const typeNames = Object.fromEntries(Object.entries(AttrType).map(([k, v]) => [v, k])) as Record<number, string>;

function inferType(a: AttributeProto): number {
  if (a.type) return a.type;
  if (a.floats.length) return AttrType.FLOATS;
  if (a.ints.length) return AttrType.INTS;
  if (a.strings.length) return AttrType.STRINGS;
  if (a.tensors.length) return AttrType.TENSORS;
  if (a.t) return AttrType.TENSOR;
  if (a.g) return AttrType.GRAPH;
  if (a.s && a.s.length) return AttrType.STRING;
  if (int64(a.i) !== 0) return AttrType.INT;
  return AttrType.FLOAT;
}

export class Attributes {
  private readonly map = new Map<string, AttributeProto>();

  /**
   * @param where how errors name the node: `node 'conv1' (Conv)`.
   * @param decodeTensor turns a TENSOR attribute into a Tensor (with the loader's limits).
   */
  constructor(
    list: readonly AttributeProto[],
    private readonly where: string,
    private readonly decodeTensor: (p: TensorProto, what: string) => Tensor,
  ) {
    for (const a of list) this.map.set(a.name, a);
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  names(): string[] {
    return [...this.map.keys()];
  }

  private get(name: string, expected: number): AttributeProto | undefined {
    const a = this.map.get(name);
    if (!a) return undefined;
    if (a.ref_attr_name) throw new ConvkitError(`${this.where}: attribute '${name}' refers to a function attribute, which is not supported`);
    // Files older than IR 3 may leave `type` unset; then the field the spec names is read as is.
    if (a.type !== 0 && a.type !== expected) {
      throw new ConvkitError(`${this.where}: attribute '${name}' must be ${typeNames[expected]}, got ${typeNames[a.type] ?? `type ${a.type}`}`);
    }
    return a;
  }

  int(name: string, fallback: number): number;
  int(name: string): number | undefined;
  int(name: string, fallback?: number): number | undefined {
    const a = this.get(name, AttrType.INT);
    return a ? int64(a.i) : fallback;
  }

  float(name: string, fallback: number): number;
  float(name: string): number | undefined;
  float(name: string, fallback?: number): number | undefined {
    const a = this.get(name, AttrType.FLOAT);
    return a ? a.f : fallback;
  }

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    const a = this.get(name, AttrType.STRING);
    return a ? utf8(a.s) : fallback;
  }

  ints(name: string, fallback: number[]): number[];
  ints(name: string): number[] | undefined;
  ints(name: string, fallback?: number[]): number[] | undefined {
    const a = this.get(name, AttrType.INTS);
    return a ? a.ints.map((v) => int64(v)) : fallback;
  }

  floats(name: string, fallback: number[]): number[];
  floats(name: string): number[] | undefined;
  floats(name: string, fallback?: number[]): number[] | undefined {
    const a = this.get(name, AttrType.FLOATS);
    return a ? [...a.floats] : fallback;
  }

  tensor(name: string): Tensor | undefined {
    const a = this.get(name, AttrType.TENSOR);
    return a && a.t ? this.decodeTensor(a.t, `${this.where}: attribute '${name}'`) : undefined;
  }

  /** The raw TensorProto of a TENSOR attribute (for checking its data type before decoding). */
  tensorProto(name: string): TensorProto | undefined {
    return this.get(name, AttrType.TENSOR)?.t ?? undefined;
  }

  /** Attribute kinds convkit never handles (subgraphs, sparse tensors), for the load-time check. */
  unsupportedKinds(): string[] {
    const out: string[] = [];
    for (const [name, a] of this.map) {
      const t = inferType(a);
      if (t === AttrType.GRAPH || t === AttrType.GRAPHS) out.push(`attribute '${name}' holds a subgraph`);
      if (t === AttrType.SPARSE_TENSOR || t === AttrType.SPARSE_TENSORS) out.push(`attribute '${name}' holds a sparse tensor`);
    }
    return out;
  }
}
