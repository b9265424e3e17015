import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { keep } from '../tensor/scope.js';
import { Tensor, type GradNode } from '../tensor/tensor.js';
import { activeRecorder } from '../backend/profiler-hooks.js';

/**
 * Reverse-mode automatic differentiation. Each op that runs while grad is enabled and has an
 * input requiring grad attaches a GradNode to its output (`record`). `backward` walks those
 * nodes from the output in reverse topological order, summing gradients that meet.
 */

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording onto the tape (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs fn with recording on, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Whether an op with these inputs must record a GradNode. */
export function needsGrad(...inputs: readonly (Tensor | null | undefined)[]): boolean {
  return gradEnabled && inputs.some((t) => t?.requiresGrad === true);
}

/**
 * Attaches a backward function to `out` when any input requires grad. `backward` receives the
 * gradient of `out` and returns one gradient (or null) per input, each with that input's
 * shape. It runs with grad off. `saved` lists tensors it reads besides the inputs.
 */
export function record(
  out: Tensor,
  name: string,
  inputs: readonly (Tensor | null | undefined)[],
  backward: (gradOutput: Tensor) => readonly (Tensor | null)[],
  saved: readonly Tensor[] = [],
): Tensor {
  if (!needsGrad(...inputs)) return out;
  out.requiresGrad = true;
  out.gradFn = { name, inputs: inputs.map((t) => t ?? null), saved, backward };
  activeRecorder()?.nodeRecorded(out.gradFn);
  return out;
}

function topologicalOrder(root: GradNode): GradNode[] {
  const order: GradNode[] = [];
  const seen = new Set<GradNode>();
  // Iterative DFS: deep nets (ResNet-152) would overflow a recursive one.
  const stack: { node: GradNode; next: number }[] = [{ node: root, next: 0 }];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const inputs = top.node.inputs;
    if (top.next < inputs.length) {
      const child = inputs[top.next++]?.gradFn;
      if (child && !seen.has(child)) {
        seen.add(child);
        stack.push({ node: child, next: 0 });
      }
    } else {
      order.push(top.node);
      stack.pop();
    }
  }
  return order.reverse();
}

function addInto(a: Tensor | undefined, b: Tensor): Tensor {
  if (!a) return b;
  const x = a.values();
  const y = b.values();
  const out = new Float32Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = x[i]! + y[i]!;
  return new Tensor(out, a.shape);
}

function backward(root: Tensor, gradOutput?: Tensor): void {
  if (!root.requiresGrad) {
    throw new ConvkitError(
      'backward(): this tensor does not require grad; create the inputs or parameters with {requiresGrad: true} ' +
        'and make sure the computation did not run inside noGrad()',
    );
  }
  let seed: Tensor;
  if (gradOutput === undefined) {
    if (root.size !== 1) {
      throw new ConvkitError(
        `backward() without an argument needs a scalar, got shape ${fmtShape(root.shape)}; pass the gradient of the output, or reduce it first (e.g. sum or mean)`,
      );
    }
    seed = new Tensor(new Float32Array([1]), root.shape);
  } else {
    if (gradOutput.size !== root.size || gradOutput.shape.join() !== root.shape.join()) {
      throw new ConvkitError(`backward(): gradient shape ${fmtShape(gradOutput.shape)} does not match output shape ${fmtShape(root.shape)}`);
    }
    seed = gradOutput.contiguous();
  }
  if (!root.gradFn) {
    accumulateLeaf(root, seed);
    return;
  }
  const grads = new Map<GradNode, Tensor>();
  grads.set(root.gradFn, seed);
  noGrad(() => {
    for (const node of topologicalOrder(root.gradFn!)) {
      const g = grads.get(node);
      grads.delete(node);
      if (!g) continue;
      // A profile (analysis/profile.ts) charges the node's time to the module that recorded it.
      const recorder = activeRecorder();
      if (!recorder) {
        runNode(node, g, grads);
        continue;
      }
      recorder.backwardStart(node);
      try {
        runNode(node, g, grads);
      } finally {
        recorder.backwardEnd();
      }
    }
  });
}

/** Runs one node's backward function and hands each input its gradient. */
function runNode(node: GradNode, g: Tensor, grads: Map<GradNode, Tensor>): void {
  const inputGrads = node.backward(g);
  node.inputs.forEach((input, i) => {
    const gi = inputGrads[i];
    if (!input || !gi || !input.requiresGrad) return;
    if (gi.shape.join() !== input.shape.join()) {
      throw new ConvkitError(
        `internal error in the backward pass of ${node.name}: gradient ${fmtShape(gi.shape)} for input ${i} of shape ${fmtShape(input.shape)}`,
      );
    }
    if (input.gradFn) grads.set(input.gradFn, addInto(grads.get(input.gradFn), gi.contiguous()));
    else accumulateLeaf(input, gi.contiguous());
  });
}

/** Leaves keep their gradient in `.grad`, summed over backward calls as in PyTorch. */
function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  // A leaf's gradient owns its storage: optimizers and zeroGrad may write into it.
  leaf.grad = keep(leaf.grad ? addInto(leaf.grad, g) : new Tensor(g.values().slice(), g.shape));
}

Tensor.backwardImpl = backward;
Tensor.gradEnabled = isGradEnabled;
