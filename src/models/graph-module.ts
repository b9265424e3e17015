import type { GraphOps, GraphTraceable } from '../nn/graph-trace.js';
import { isPlainRelu, runReluChain } from '../nn/fusion.js';
import { Module } from '../nn/module.js';
import { declareGraphForward } from '../nn/optimize-for-inference.js';
import { add } from '../ops/binary.js';
import { cat } from '../ops/concat.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Runs a graph description on tensors: children's forward, F.add, and ck.cat along channels;
 * a layer and the plain ReLU after it in a chain, and a sum and the plain ReLU after it, run as
 * one kernel call (the same values and gradients) unless a hook watches (nn/fusion.ts).
 * ck.nn.optimizeForInference also folds batch norms and frees activations (nn/optimize-for-inference.ts).
 */
const tensorOps: GraphOps<Tensor> = {
  call: (child, x) => child.forward(x),
  chain: (children, x) => runReluChain(children, x),
  add: (a, b) => add(a, b),
  addThen: (a, b, after) => (isPlainRelu(after) ? add(a, b, { activation: 'relu' }) : after.forward(add(a, b))),
  cat: (xs) => cat(xs, 1),
};

/**
 * Base of the zoo's graph modules (residual blocks, Inception modules, ResNet, GoogLeNet):
 * each writes its dataflow once, in `traceGraph`, and `forward` is that description run on
 * tensors. The summary runs the same description on shapes (see nn/graph-trace.ts).
 */
export abstract class GraphModule extends Module implements GraphTraceable {
  /** The module's dataflow, written once over abstract values: tensors for forward, shapes for the summary. */
  abstract traceGraph<V>(x: V, ops: GraphOps<V>): V;

  forward(x: Tensor): Tensor {
    return this.traceGraph(x, tensorOps);
  }
}

declareGraphForward(GraphModule.prototype.forward);
