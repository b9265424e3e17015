import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { keep } from '../tensor/scope.js';
import { Tensor, type GradNode } from '../tensor/tensor.js';
import { activeRecorder } from '../backend/profiler-hooks.js';
import { kernel } from '../backend/registry.js';
import { storagesMade, type Storage } from '../tensor/storage.js';
import { copyArray } from '../tensor/copy-array.js';
import type { KernelTensor } from '../backend/kernels.js';
import { currentDeviceMemory, deviceCopy, deviceValues } from '../backend/device-args.js';

/**
 * Reverse-mode automatic differentiation. Each op that runs while grad is enabled and has an
 * input requiring grad attaches a GradNode to its output (`record`). `backward` walks those
 * nodes from the output in reverse topological order, summing gradients that meet.
 */

let gradEnabled = true;

/** Whether ops record the autograd graph now (false inside `noGrad`). */
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

/**
 * Who holds the gradient buffers of one backward pass, so that they are summed without copies.
 * A buffer is *fresh* when its storage was made during this pass (a backward function's
 * output): nothing outside the pass can hold it. `holds` counts the slots (pending node
 * gradients, leaf gradients set in this pass) that hold each fresh storage; a buffer held by
 * one slot only may be replaced by its sum and freed, and one held by none may be taken over.
 */
class GradSlots {
  readonly grads = new Map<GradNode, Tensor>();
  private readonly holds = new Map<Storage, number>();
  /** Leaves whose `.grad` this pass set to a fresh buffer nobody else holds. */
  private readonly ownedLeaves = new Set<Tensor>();
  constructor(private readonly firstSerial: number) {}

  private fresh(t: Tensor): boolean {
    return t.storage.serial >= this.firstSerial;
  }

  private hold(t: Tensor): void {
    if (this.fresh(t)) this.holds.set(t.storage, (this.holds.get(t.storage) ?? 0) + 1);
  }

  private release(t: Tensor): void {
    const n = this.holds.get(t.storage);
    if (n !== undefined) this.holds.set(t.storage, n - 1);
  }

  /** Takes node's pending gradient out of its slot (the node's backward consumes it). */
  take(node: GradNode): Tensor | undefined {
    const g = this.grads.get(node);
    if (g === undefined) return undefined;
    this.grads.delete(node);
    this.release(g);
    return g;
  }

  /** Adds g (contiguous, the node output's shape) to the pending gradient of node. */
  addToNode(node: GradNode, g: Tensor): void {
    const acc = this.grads.get(node);
    if (acc === undefined) {
      this.grads.set(node, g);
      this.hold(g);
      return;
    }
    const sum = add(acc, g);
    this.release(acc);
    if (this.exclusive0(acc)) acc.dispose();
    this.grads.set(node, sum);
    this.hold(sum);
  }

  /**
   * Leaves keep their gradient in `.grad`, summed over backward calls as in PyTorch. A leaf's
   * gradient owns its storage (optimizers and zeroGrad may write into it or free it), so g is
   * copied unless it is a fresh buffer no slot holds. A gradient from an earlier pass may be
   * held by the user: the sum goes to a new buffer and the old one is left as it was.
   */
  addToLeaf(leaf: Tensor, g: Tensor): void {
    const old = leaf.grad;
    if (old === null) {
      const own = this.fresh(g) && !this.holds.get(g.storage) && wholeStorage(g) && g.dtype === 'float32';
      leaf.grad = keep(own ? g : copyOf(g));
      this.hold(leaf.grad);
      this.ownedLeaves.add(leaf);
      return;
    }
    const sum = keep(add(old, g));
    if (this.ownedLeaves.has(leaf)) {
      this.release(old);
      if (this.exclusive0(old)) old.dispose();
    } else {
      this.ownedLeaves.add(leaf);
    }
    leaf.grad = sum;
    this.hold(sum);
  }

  /** Fresh, whole-storage and, after its own slot let go, held by no slot. */
  private exclusive0(t: Tensor): boolean {
    return this.fresh(t) && this.holds.get(t.storage) === 0 && wholeStorage(t);
  }
}

function wholeStorage(t: Tensor): boolean {
  return t.offset === 0 && t.size * 4 === t.storage.bytes && t.isContiguous();
}

/** A copy of g with its own storage, on the device where the backend keeps tensors. */
function copyOf(g: Tensor): Tensor {
  const device = currentDeviceMemory();
  if (device) return new Tensor(deviceCopy(g, device) as unknown as Float32Array, g.shape);
  return new Tensor(copyArray(g.values()), g.shape);
}

/** A tensor as the Binary kernel's argument (on a device backend, its device array). */
function arg(t: Tensor): KernelTensor {
  const device = currentDeviceMemory();
  return { data: (device ? deviceValues(t, device) : t.values()) as Float32Array, shape: t.shape };
}

/** a + b as a new tensor of a's shape (the backend's add when both are contiguous float32 of one shape). */
function add(a: Tensor, b: Tensor): Tensor {
  if (a.dtype === 'float32' && b.dtype === 'float32' && sameShape(a.shape, b.shape)) {
    return new Tensor(kernel('Binary')(arg(a), arg(b), 'add', a.shape), a.shape);
  }
  const x = a.values();
  const y = b.values();
  const out = new Float32Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = x[i]! + y[i]!;
  return new Tensor(out, a.shape);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function backward(root: Tensor, gradOutput?: Tensor): void {
  if (!root.requiresGrad) {
    throw new ConvkitError(
      'backward(): this tensor does not require grad; create the inputs or parameters with {requiresGrad: true} ' +
        'and make sure the computation did not run inside noGrad()',
    );
  }
  // Storages made from here on are this pass's temporaries (the user's gradOutput is older).
  const slots = new GradSlots(storagesMade());
  let seed: Tensor;
  if (gradOutput === undefined) {
    if (root.size !== 1) {
      throw new ConvkitError(
        `backward() without an argument needs a scalar, got shape ${fmtShape(root.shape)}; pass the gradient of the output, or reduce it first (e.g. sum or mean)`,
      );
    }
    seed = new Tensor(new Float32Array([1]), root.shape);
  } else {
    if (gradOutput.size !== root.size || !sameShape(gradOutput.shape, root.shape)) {
      throw new ConvkitError(`backward(): gradient shape ${fmtShape(gradOutput.shape)} does not match output shape ${fmtShape(root.shape)}`);
    }
    seed = gradOutput.contiguous();
  }
  if (!root.gradFn) {
    slots.addToLeaf(root, seed);
    return;
  }
  slots.addToNode(root.gradFn, seed);
  noGrad(() => {
    for (const node of topologicalOrder(root.gradFn!)) {
      const g = slots.take(node);
      if (!g) continue;
      // A profile (analysis/profile.ts) charges the node's time to the module that recorded it.
      const recorder = activeRecorder();
      if (!recorder) {
        runNode(node, g, slots);
        continue;
      }
      recorder.backwardStart(node);
      try {
        runNode(node, g, slots);
      } finally {
        recorder.backwardEnd();
      }
    }
  });
}

/** Runs one node's backward function and hands each input its gradient. */
function runNode(node: GradNode, g: Tensor, slots: GradSlots): void {
  const inputGrads = node.backward(g);
  const inputs = node.inputs;
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i];
    const gi = inputGrads[i];
    if (!input || !gi || !input.requiresGrad) continue;
    if (!sameShape(gi.shape, input.shape)) {
      throw new ConvkitError(
        `internal error in the backward pass of ${node.name}: gradient ${fmtShape(gi.shape)} for input ${i} of shape ${fmtShape(input.shape)}`,
      );
    }
    if (input.gradFn) slots.addToNode(input.gradFn, gi.contiguous());
    else slots.addToLeaf(input, gi.contiguous());
  }
}

Tensor.backwardImpl = backward;
Tensor.gradEnabled = isGradEnabled;
