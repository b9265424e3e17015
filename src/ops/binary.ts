import { kernel } from '../backend/registry.js';
import type { BinaryOp } from '../backend/kernels.js';
import { record } from '../autograd/tape.js';
import { broadcastShapes } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { expectTensor, kin, kinStrided, kout } from './kernel-io.js';
import { activationGrad, checkActivation, fusedName, type FusedActivation } from './fused-activation.js';

type Operand = Tensor | number;

function scalar(v: number): Tensor {
  return new Tensor(new Float32Array([v]), []);
}

/** Repeats `x` to `shape` (a copy), optionally scaled; used by reduction gradients. */
export function broadcastTo(x: Tensor, shape: readonly number[], scale = 1): Tensor {
  return kout(kernel('Binary')(kinStrided(x, 'Binary'), kin(scalar(scale)), 'mul', broadcastShapes(x.shape, shape, 'broadcastTo')), shape);
}

/** Sums a broadcast gradient back down to `shape` (the inverse of broadcasting). */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.join() === shape.join()) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  const reduced = kernel('Reduce')(kin(g), axes, 'sum');
  return kout(reduced, shape);
}

function binaryOp(a: Operand, b: Operand, op: BinaryOp, activation: FusedActivation = 'none'): Tensor {
  const ta = typeof a === 'number' ? scalar(a) : expectTensor(a, op, 'first operand');
  const tb = typeof b === 'number' ? scalar(b) : expectTensor(b, op, 'second operand');
  const outShape = broadcastShapes(ta.shape, tb.shape, op);
  const y = kout(kernel('Binary')(kinStrided(ta, 'Binary', op, 'first operand'), kinStrided(tb, 'Binary', op, 'second operand'), op, outShape, activation), outShape);
  return record(y, fusedName(op, activation), [ta, tb], (dy) => {
    // Fused relu: mask dy first (the separate relu's backward), then the op's own rule.
    const g = activationGrad(activation, y, dy);
    const bin = (p: Tensor, q: Tensor, o: BinaryOp) => kout(kernel('Binary')(kinStrided(p, 'Binary'), kinStrided(q, 'Binary'), o, broadcastShapes(p.shape, q.shape)), broadcastShapes(p.shape, q.shape));
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    switch (op) {
      case 'add':
        ga = g;
        gb = g;
        break;
      case 'sub':
        ga = g;
        gb = bin(g, scalar(-1), 'mul');
        break;
      case 'mul':
        ga = bin(g, tb, 'mul');
        gb = bin(g, ta, 'mul');
        break;
      case 'div':
        ga = bin(g, tb, 'div');
        gb = bin(bin(g, y, 'mul'), tb, 'div');
        gb = bin(gb, scalar(-1), 'mul');
        break;
      case 'pow': {
        // d(a^b)/da = b a^(b-1); d(a^b)/db = a^b ln a
        ga = bin(bin(g, tb, 'mul'), bin(ta, bin(tb, scalar(1), 'sub'), 'pow'), 'mul');
        const lnA = kout(kernel('Unary')(kin(ta), 'log', 0), ta.shape);
        gb = bin(bin(g, y, 'mul'), lnA, 'mul');
        break;
      }
      case 'maximum':
      case 'minimum': {
        // Ties send the gradient to the first operand, as a deterministic choice.
        const picks = new Float32Array(y.size);
        const aFull = broadcastTo(ta, outShape).values();
        const yv = y.values();
        for (let i = 0; i < picks.length; i++) picks[i] = aFull[i] === yv[i] ? 1 : 0;
        const pa = kout(picks, outShape);
        ga = bin(g, pa, 'mul');
        gb = bin(g, bin(scalar(1), pa, 'sub'), 'mul');
        break;
      }
    }
    return [ga && sumToShape(ga, ta.shape), gb && sumToShape(gb, tb.shape)];
  });
}

/**
 * a + b with NumPy broadcasting; either side may be a number. `activation: 'relu'` gives
 * max(0, a + b) in the same pass (a residual block's sum), values and gradients exactly those
 * of F.relu(F.add(a, b)).
 */
export function add(a: Operand, b: Operand, opts: { activation?: FusedActivation } = {}): Tensor {
  return binaryOp(a, b, 'add', checkActivation(opts?.activation, 'add'));
}
export function sub(a: Operand, b: Operand): Tensor {
  return binaryOp(a, b, 'sub');
}
export function mul(a: Operand, b: Operand): Tensor {
  return binaryOp(a, b, 'mul');
}
export function div(a: Operand, b: Operand): Tensor {
  return binaryOp(a, b, 'div');
}
export function pow(a: Operand, b: Operand): Tensor {
  return binaryOp(a, b, 'pow');
}
export function maximum(a: Operand, b: Operand): Tensor {
  return binaryOp(a, b, 'maximum');
}
export function minimum(a: Operand, b: Operand): Tensor {
  return binaryOp(a, b, 'minimum');
}
