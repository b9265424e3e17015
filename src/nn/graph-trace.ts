import type { Module } from './module.js';

/**
 * How a graph module (a residual block, an Inception module) states its dataflow once, for
 * every reader: `forward` runs it on tensors, and the summary (src/analysis) runs the same
 * description on shapes, so the two can never disagree. `V` is whatever flows: a Tensor, or
 * a symbolic value holding a shape and a receptive field.
 *
 * A Sequential needs none of this (its dataflow is its order); a layer with no children
 * neither (it has `outputShape`).
 */
export interface GraphOps<V> {
  /** Runs one of this module's children (a layer, a Sequential or another graph module). */
  call(child: Module, x: V): V;
  /** Elementwise sum of two equal shapes (a residual connection). */
  add(a: V, b: V): V;
  /** Concatenation along the channels (Inception's branches). */
  cat(xs: readonly V[]): V;
  /**
   * Runs children one after another (conv -> bn -> relu). Optional: readers that leave it out
   * get one `call` per child (see callChain); tensors use it to fuse a ReLU into the layer
   * before it (nn/fusion.ts).
   */
  chain?(children: readonly Module[], x: V): V;
  /**
   * a + b, then the child `after` (the ReLU after a residual sum). Optional, as `chain`:
   * readers that leave it out get `add` then `call` (see addThen); tensors fuse a plain ReLU
   * into the sum.
   */
  addThen?(a: V, b: V, after: Module): V;
}

/** ops.addThen(a, b, after) when the reader has it, else ops.call(after, ops.add(a, b)). */
export function addThen<V>(ops: GraphOps<V>, a: V, b: V, after: Module): V {
  return ops.addThen ? ops.addThen(a, b, after) : ops.call(after, ops.add(a, b));
}

/** ops.chain(children, x) when the reader has it, else ops.call for each child in turn. */
export function callChain<V>(ops: GraphOps<V>, children: readonly Module[], x: V): V {
  if (ops.chain) return ops.chain(children, x);
  let v = x;
  for (const c of children) v = ops.call(c, v);
  return v;
}

export interface GraphTraceable {
  traceGraph<V>(x: V, ops: GraphOps<V>): V;
}

export function isGraphTraceable(m: Module): m is Module & GraphTraceable {
  return typeof (m as Partial<GraphTraceable>).traceGraph === 'function';
}
