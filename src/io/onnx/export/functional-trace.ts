import { enableGrad } from '../../../autograd/tape.js';
import type { Module } from '../../../nn/module.js';
import { Parameter } from '../../../nn/parameter.js';
import { ConvkitError, fmtShape } from '../../../tensor/errors.js';
import { Tensor, type GradNode } from '../../../tensor/tensor.js';
import type { ExportContext, Value } from './converter.js';
import { reshape } from './emit.js';
import { emitPointwise } from './convert-pointwise.js';
import { POINTWISE_OPS } from '../../../ops/pointwise/all.js';

/**
 * Export of a custom Module whose forward composes its children with ck.F ops (a residual
 * sum, a concatenation, an activation) and that does not describe itself with `traceGraph`.
 *
 * Its forward runs once with the tape on. Each child call is intercepted and exported as a
 * module; its output is marked on the tape with the ONNX name it got. Whatever the forward
 * computes between children is then read back from the tape, which records every
 * differentiable op with its name and inputs: no op had to learn about export. Ops whose
 * meaning depends on settings the tape does not keep (conv2d's stride, softmax's axis) are
 * refused with a message saying to use the layer instead.
 */

type ExportModuleFn = (m: Module, x: Value, ctx: ExportContext) => Value;

const BINARY: Record<string, string> = { add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div', pow: 'Pow', maximum: 'Max', minimum: 'Min' };
/** The declared pointwise ops without a parameter (sigmoid, tanh, ...): a traced node does not keep one. */
const DECLARED = new Map(POINTWISE_OPS.filter((d) => !d.param).map((d) => [d.name, d]));
const UNARY: Record<string, string> = { relu: 'Relu', relu_: 'Relu', exp: 'Exp', log: 'Log', sqrt: 'Sqrt', abs: 'Abs', neg: 'Neg' };
const PASS = new Set(['contiguous', 'clone']);

/** A view of `t` whose tape entry stands for an already exported ONNX value. */
function marked(t: Tensor, markers: Map<GradNode, string>, name: string): Tensor {
  const view = new Tensor(t.storage, t.shape, t.strides, t.offset);
  const node: GradNode = { name: 'onnx-export', inputs: [], saved: [], backward: () => [] };
  view.requiresGrad = true;
  view.gradFn = node;
  markers.set(node, name);
  return view;
}

/** The axis along which `out` concatenates `parts` (the one whose sizes add up). */
function catAxis(parts: readonly Tensor[], out: Tensor): number | null {
  for (let a = 0; a < out.ndim; a++) {
    const sums = parts.reduce((s, p) => s + p.shape[a]!, 0);
    const same = out.shape.every((d, i) => i === a || parts.every((p) => p.shape[i] === d));
    if (sums === out.shape[a] && same) return a;
  }
  return null;
}

/** The permutation of a permute view, read off its strides (sizes break ties). */
function permutation(src: Tensor, out: Tensor): number[] | null {
  const used = new Set<number>();
  const perm: number[] = [];
  for (let i = 0; i < out.ndim; i++) {
    const j = src.strides.findIndex((s, k) => !used.has(k) && s === out.strides[i] && src.shape[k] === out.shape[i]);
    if (j < 0) return null;
    used.add(j);
    perm.push(j);
  }
  return perm;
}

export function traceFunctional(m: Module, x: Value, ctx: ExportContext, exportModule: ExportModuleFn): Value {
  const where = `${ctx.path || 'model'} (${m.typeName})`;
  const markers = new Map<GradNode, string>();
  const emitted = new Map<GradNode, string>();
  const consts = new Map<Tensor, string>();
  const paramNames = new Map<Tensor, string>(m.namedParameters().map(([n, p]) => [p, ctx.path ? `${ctx.path}.${n}` : n]));
  const fail = (what: string): never => {
    throw new ConvkitError(
      `ONNX export: ${where}: its forward ${what}. Export reads a custom module's forward from its children (layers) and the ops ` +
        `between them that need no settings (add, sub, mul, div, relu, sigmoid, tanh, cat, linear, matmul, view, permute); ` +
        `use a layer (e.g. nn.Conv2d, nn.Softmax) as a child for the rest, describe the dataflow with traceGraph, or ` +
        `register a converter with ck.io.registerOnnxConverter(${m.typeName}, ...)`,
    );
  };

  const resolve = (t: Tensor | null): string => {
    if (!t) return '';
    const node = t.gradFn;
    if (!node) return constant(t);
    const mark = markers.get(node) ?? emitted.get(node);
    if (mark !== undefined) return mark;
    const name = emit(node, t);
    emitted.set(node, name);
    return name;
  };

  const constant = (t: Tensor): string => {
    const known = consts.get(t);
    if (known) return known;
    if (t.dtype !== 'float32') fail(`uses an integer tensor ${fmtShape(t.shape)} that export cannot place in the graph`);
    const name = ctx.b.weight(paramNames.get(t) ?? (ctx.path ? `${ctx.path}.const` : 'const'), t.contiguous());
    consts.set(t, name);
    return name;
  };

  const emit = (node: GradNode, out: Tensor): string => {
    const base = ctx.path ? `${ctx.path}.${node.name}` : node.name;
    const ins = node.inputs;
    if (BINARY[node.name]) return ctx.b.node(BINARY[node.name]!, [resolve(ins[0]!), resolve(ins[1]!)], {}, base);
    if (UNARY[node.name]) return ctx.b.node(UNARY[node.name]!, [resolve(ins[0]!)], {}, base);
    const declared = DECLARED.get(node.name);
    if (declared) return emitPointwise({ ...ctx, path: base }, declared, resolve(ins[0]!), 0);
    if (PASS.has(node.name)) return resolve(ins[0]!);
    if (node.name === 'view') return reshape(ctx, resolve(ins[0]!), out.ndim === 0 ? [] : [-1, ...out.shape.slice(1)], base);
    if (node.name === 'permute') {
      const perm = permutation(ins[0]!, out);
      if (!perm) fail(`permutes ${fmtShape(ins[0]!.shape)} to ${fmtShape(out.shape)} in a way export cannot read back`);
      return ctx.b.node('Transpose', [resolve(ins[0]!)], { perm: { ints: perm! } }, base);
    }
    if (node.name === 'cat') {
      const parts = ins.filter((p): p is Tensor => p !== null);
      const axis = catAxis(parts, out);
      if (axis === null) fail(`concatenates ${parts.map((p) => fmtShape(p.shape)).join(', ')} in a way export cannot read back`);
      return ctx.b.node('Concat', parts.map(resolve), { axis: { i: axis! } }, base);
    }
    if (node.name === 'matmul') return ctx.b.node('MatMul', [resolve(ins[0]!), resolve(ins[1]!)], {}, base);
    if (node.name === 'linear' || node.name === 'linear_relu') {
      // linear_relu: F.linear with activation 'relu', a Relu node after the product.
      const relu = node.name === 'linear_relu';
      const at = relu ? `${base}.linear` : base;
      const [xi, w, b] = ins;
      let y: string;
      if (xi!.ndim === 2) y = ctx.b.node('Gemm', [resolve(xi!), resolve(w!), ...(b ? [resolve(b)] : [])], { transB: { i: 1 } }, at);
      else {
        const wt = ctx.b.node('Transpose', [resolve(w!)], { perm: { ints: [1, 0] } }, `${base}.wt`);
        const prod = ctx.b.node('MatMul', [resolve(xi!), wt], {}, b ? `${base}.matmul` : at);
        y = b ? ctx.b.node('Add', [prod, resolve(b)], {}, at) : prod;
      }
      return relu ? ctx.b.node('Relu', [y], {}, base) : y;
    }
    return fail(`calls ${node.name}`);
  };

  // Children run through the exporter; their outputs come back marked with their ONNX names
  // (Module makes `forward` an own, writable property: assigning it is enough, and reversible.)
  const children = m.namedChildren();
  const saved = children.map(([, c]) => c.forward);
  children.forEach(([name, child], i) => {
    const intercept = (input: Tensor): Tensor => {
      if (!(input instanceof Tensor)) fail(`passes ${typeof input} to its child '${name}'`);
      const source = resolve(input);
      // The child's own forward runs inside the exporter.
      child.forward = saved[i]!;
      try {
        const v = exportModule(child, { name: source, t: input }, { ...ctx, path: ctx.path ? `${ctx.path}.${name}` : name });
        return marked(v.t, markers, v.name);
      } finally {
        child.forward = intercept;
      }
    };
    child.forward = intercept;
  });
  let y: Tensor;
  try {
    y = enableGrad(() => m.forward(marked(x.t, markers, x.name)));
  } finally {
    children.forEach(([, child], i) => (child.forward = saved[i]!));
  }
  if (!(y instanceof Tensor)) fail('does not return a Tensor');
  return { name: resolve(y), t: y };
}
