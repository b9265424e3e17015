import type { GraphOps, GraphTraceable } from '../nn/graph-trace.js';
import { Module } from '../nn/module.js';
import { declareGraphForward } from '../nn/optimize-for-inference.js';
import { add } from '../ops/binary.js';
import { cat } from '../ops/concat.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Runs a graph description on tensors as written: each child's forward, F.add, and ck.cat
 * along channels. ck.nn.optimizeForInference plans the fused version (nn/optimize-for-inference.ts).
 */
const tensorOps: GraphOps<Tensor> = {
  call: (child, x) => child.forward(x),
  add: (a, b) => add(a, b),
  cat: (xs) => cat(xs, 1),
};

/**
 * Base of the zoo's graph modules (residual blocks, Inception modules, ResNet, GoogLeNet):
 * each writes its dataflow once, in `traceGraph`, and `forward` is that description run on
 * tensors. The summary runs the same description on shapes (see nn/graph-trace.ts).
 */
export abstract class GraphModule extends Module implements GraphTraceable {
  abstract traceGraph<V>(x: V, ops: GraphOps<V>): V;

  forward(x: Tensor): Tensor {
    return this.traceGraph(x, tensorOps);
  }
}

declareGraphForward(GraphModule.prototype.forward);
