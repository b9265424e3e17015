import { noGrad } from '../../../autograd/tape.js';
import { isGraphTraceable, type GraphOps } from '../../../nn/graph-trace.js';
import type { Module } from '../../../nn/module.js';
import { Sequential } from '../../../nn/sequential.js';
import { add } from '../../../ops/binary.js';
import { cat } from '../../../ops/concat.js';
import { ConvkitError } from '../../../tensor/errors.js';
import { OnnxModel } from '../onnx-model.js';
import { converterFor, type ExportContext, type Value } from './converter.js';
import { traceFunctional } from './functional-trace.js';
import { inlineOnnxModel } from './onnx-model-export.js';

/**
 * Walks a model the way it runs, emitting ONNX as it goes:
 * - a layer with a converter (every convkit layer has one) becomes its nodes;
 * - a Sequential is its children in order;
 * - a graph module (residual blocks, Inception, ResNet, GoogLeNet) runs its `traceGraph`
 *   description with ONNX values: children, Add, Concat;
 * - an imported OnnxModel is its own graph again, with the current weights;
 * - any other Module runs its forward once, its children becoming their nodes and the ck.F
 *   ops between them read back from the autograd tape (functional-trace.ts).
 * Every step also computes convkit's own activation (batch 1), which gives the converters
 * their sizes and lets each step check that the nodes it wrote produce that size.
 */

const join = (prefix: string, name: string): string => (prefix ? `${prefix}.${name}` : name);

export function exportModule(m: Module, x: Value, ctx: ExportContext): Value {
  const convert = converterFor(m);
  if (convert) {
    const y = noGrad(() => m.forward(x.t));
    return { name: convert(m, { x, y }, ctx), t: y };
  }
  if (m instanceof Sequential) {
    let v = x;
    for (const [name, child] of m.namedChildren()) v = exportModule(child, v, { ...ctx, path: join(ctx.path, name) });
    return v;
  }
  if (isGraphTraceable(m)) return m.traceGraph(x, graphOps(m, ctx));
  if (m instanceof OnnxModel) return inlineOnnxModel(m, [x], ctx, exportModule);
  return traceFunctional(m, x, ctx, exportModule);
}

function graphOps(parent: Module, ctx: ExportContext): GraphOps<Value> {
  const names = new Map<Module, string>();
  for (const [name, child] of parent.namedChildren()) names.set(child, name);
  const where = `${ctx.path || 'model'} (${parent.typeName})`;
  let adds = 0;
  let cats = 0;
  return {
    call: (child, v) => {
      const name = names.get(child);
      if (name === undefined) throw new ConvkitError(`ONNX export: ${where}: traceGraph called a module that is not one of its children (${child.typeName})`);
      return exportModule(child, v, { ...ctx, path: join(ctx.path, name) });
    },
    add: (a, b) => {
      const t = noGrad(() => add(a.t, b.t));
      const name = ctx.b.node('Add', [a.name, b.name], {}, join(ctx.path, adds++ ? `add${adds}` : 'add'));
      return { name, t };
    },
    cat: (xs) => {
      if (xs.length === 0) throw new ConvkitError(`ONNX export: ${where}: concatenation of no values`);
      const t = noGrad(() => cat(xs.map((v) => v.t), 1));
      const name = ctx.b.node('Concat', xs.map((v) => v.name), { axis: { i: 1 } }, join(ctx.path, cats++ ? `cat${cats}` : 'cat'));
      return { name, t };
    },
  };
}
