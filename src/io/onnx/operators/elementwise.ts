import * as F from '../../../functional.js';
import { broadcastShapes, contiguousStrides, sizeOf } from '../../../tensor/shape.js';
import { Tensor } from '../../../tensor/tensor.js';
import { asFloat, input } from './common.js';
import type { OperatorDef, RunContext } from './op-types.js';

/**
 * Add, Sub, Mul, Div (NumPy broadcasting from opset 7; before it, `broadcast=1` aligned the
 * second operand at `axis`), Sum (variadic) and the elementwise math that exporters emit
 * around them. Integer tensors (shape arithmetic) are computed directly, without autograd.
 */

type Arith = 'add' | 'sub' | 'mul' | 'div';

const intOps: Record<Arith, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => Math.imul(a, b),
  // ONNX integer division truncates toward zero, as C does.
  div: (a, b) => (b === 0 ? 0 : Math.trunc(a / b)),
};

function intBinary(a: Tensor, b: Tensor, op: Arith, what: string): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, what);
  const n = sizeOf(shape);
  const out = new Int32Array(n);
  const av = a.values();
  const bv = b.values();
  const stridesFor = (s: readonly number[]): number[] => {
    const own = contiguousStrides(s);
    return shape.map((_, i) => {
      const j = i - (shape.length - s.length);
      return j < 0 || s[j] === 1 ? 0 : own[j]!;
    });
  };
  const sa = stridesFor(a.shape);
  const sb = stridesFor(b.shape);
  const outStrides = contiguousStrides(shape);
  const f = intOps[op];
  for (let i = 0; i < n; i++) {
    let ia = 0;
    let ib = 0;
    let rem = i;
    for (let d = 0; d < shape.length; d++) {
      const k = Math.floor(rem / outStrides[d]!);
      rem -= k * outStrides[d]!;
      ia += k * sa[d]!;
      ib += k * sb[d]!;
    }
    out[i] = f(av[ia]!, bv[ib]!);
  }
  return new Tensor(out, shape);
}

/** Opset < 7 `broadcast=1`: B's dimensions line up with A's starting at `axis`. */
function legacyAlign(ctx: RunContext, a: Tensor, b: Tensor): Tensor {
  if (ctx.opset >= 7 || ctx.attrs.int('broadcast', 0) !== 1 || b.ndim >= a.ndim) return b;
  const axis = ctx.attrs.int('axis', a.ndim - b.ndim);
  const start = axis < 0 ? axis + a.ndim : axis;
  const trailing = a.ndim - start - b.ndim;
  if (start < 0 || trailing < 0) ctx.fail(`broadcast axis ${axis} does not fit operand shapes [${a.shape}] and [${b.shape}]`);
  return b.reshape([...b.shape, ...new Array<number>(trailing).fill(1)]);
}

export function arith(op: Arith, ctx: RunContext, a: Tensor, b: Tensor): Tensor {
  const bb = legacyAlign(ctx, a, b);
  if (a.dtype === 'int32' && bb.dtype === 'int32') return intBinary(a, bb, op, ctx.opType);
  return F[op](asFloat(a), asFloat(bb));
}

function binary(op: Arith): OperatorDef {
  return {
    run: (ctx, inputs) => arith(op, ctx, input(ctx, inputs, 0, 'A'), input(ctx, inputs, 1, 'B')),
  };
}

function unary(fn: (x: Tensor) => Tensor): OperatorDef {
  return { run: (ctx, inputs) => fn(asFloat(input(ctx, inputs, 0, 'X'))) };
}

/** Add; asked for relu(A + B) when only a Relu reads its output (a residual block's sum). */
const add: OperatorDef = {
  run(ctx, inputs) {
    if (ctx.activation !== 'relu') return arith('add', ctx, input(ctx, inputs, 0, 'A'), input(ctx, inputs, 1, 'B'));
    const a = input(ctx, inputs, 0, 'A');
    const b = legacyAlign(ctx, a, input(ctx, inputs, 1, 'B'));
    // Integer sums go through the Relu node's own path (it reads them as float).
    if (a.dtype === 'int32' && b.dtype === 'int32') return F.relu(asFloat(intBinary(a, b, 'add', ctx.opType)));
    return F.add(asFloat(a), asFloat(b), { activation: 'relu' });
  },
  fusesRelu: true,
};

export const elementwiseOperators: Record<string, OperatorDef> = {
  Add: add,
  Sub: binary('sub'),
  Mul: binary('mul'),
  Div: binary('div'),
  Sum: {
    run(ctx, inputs) {
      const xs = inputs.filter((t): t is Tensor => t !== null);
      if (xs.length === 0) ctx.fail('needs at least one input');
      return xs.slice(1).reduce((acc, t) => arith('add', ctx, acc, t), xs[0]!);
    },
  },
  Neg: {
    run(ctx, inputs) {
      const x = input(ctx, inputs, 0, 'X');
      if (x.dtype === 'int32') return new Tensor(Int32Array.from(x.values(), (v) => -v), x.shape);
      return F.neg(x);
    },
  },
  Exp: unary(F.exp),
  Log: unary(F.log),
  Sqrt: unary(F.sqrt),
  Abs: unary(F.abs),
  Pow: { run: (ctx, inputs) => F.pow(asFloat(input(ctx, inputs, 0, 'X')), asFloat(input(ctx, inputs, 1, 'Y'))) },
};
