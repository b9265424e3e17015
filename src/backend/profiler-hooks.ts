import type { KernelName } from './kernels.js';

/**
 * The points where a profiler (analysis/profile.ts) listens: every kernel call (through the
 * registry's `kernel()`), every module's forward (nn/module.ts), every gradient node recorded
 * (autograd/tape.ts, and the view nodes of tensor/tensor.ts) and run (autograd/tape.ts). This file sits at the bottom of the layering so that all of them
 * can report to it without importing the profiler. While no profile is active the recorder is
 * null and each of those places costs one null check.
 */

/**
 * What a kernel called inside a backward function computes: the gradient of the layer's input,
 * or of its weights (filters and bias). Ops pass it to `kernel(name, role)` where it is known;
 * other backward kernels (masks, normalization gradients computing both at once) count as
 * "other backward".
 */
export type GradRole = 'input' | 'weight';

export interface ProfileRecorder {
  kernelStart(name: KernelName, role: GradRole | undefined, args: readonly unknown[]): void;
  kernelEnd(): void;
  /** A module's forward (or a fused entry point that stands for it) begins; `module` is an nn Module. */
  moduleStart(module: object): void;
  moduleEnd(output: unknown): void;
  /** A gradient node was attached to an op's output (attributed to the module running now). */
  nodeRecorded(node: object): void;
  /** The backward function of `node` runs (with the gradient bookkeeping after it). */
  backwardStart(node: object): void;
  backwardEnd(): void;
}

let active: ProfileRecorder | null = null;

export function activeRecorder(): ProfileRecorder | null {
  return active;
}

/** Installs (or with null removes) the recorder every hook reports to. */
export function setActiveRecorder(recorder: ProfileRecorder | null): void {
  active = recorder;
}

/** `fn` wrapped so that the recorder sees its start and end (kernels are synchronous). */
export function timedKernel<F>(recorder: ProfileRecorder, name: KernelName, role: GradRole | undefined, fn: F): F {
  const call = fn as unknown as (...args: unknown[]) => unknown;
  return ((...args: unknown[]) => {
    recorder.kernelStart(name, role, args);
    try {
      return call(...args);
    } finally {
      recorder.kernelEnd();
    }
  }) as unknown as F;
}
