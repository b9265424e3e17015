import type { KernelName } from '../backend/kernels.js';
import type { GradRole, ProfileRecorder } from '../backend/profiler-hooks.js';
import { Module } from '../nn/module.js';
import { Tensor } from '../tensor/tensor.js';
import { kernelMacs } from './kernel-macs.js';

/**
 * What a profile accumulates while it listens to the hooks (backend/profiler-hooks.ts). Time is
 * charged exclusively: at every event (a module's forward starts or ends, a kernel starts or
 * ends, a gradient node's backward starts or ends) the time since the previous event goes to
 * whatever was running, so the rows partition the measured interval and add up to it: a
 * layer's row holds its own forward code and kernels, not its children's; a backward node's
 * time goes to the module that was running when the node was recorded.
 */

/** Where a layer's time goes: its forward, and in backward the input's gradient, the weights' (filters and bias), or the rest. */
export type Phase = 'forward' | 'inputGrad' | 'weightGrad' | 'otherBackward';
export const PHASES: readonly Phase[] = ['forward', 'inputGrad', 'weightGrad', 'otherBackward'];

export interface PhaseTotals {
  /** Wall time, kernels included. */
  ms: number;
  /** The part of `ms` spent inside kernels. */
  kernelMs: number;
  kernelCalls: number;
  macs: number;
}

/** One module (or named region, or the time outside every module) with its totals over the recorded steps. */
export interface ScopeTotals {
  readonly module: Module | null;
  readonly path: string;
  readonly type: string;
  /** Per-item output shape of the last forward ([C, H, W] or [F]); null when none ran. */
  output: number[] | null;
  /** Forward calls (a module run twice per step counts 2). */
  calls: number;
  readonly phases: Record<Phase, PhaseTotals>;
  /** First-seen order, for listing rows without a model. */
  readonly order: number;
}

/** One kernel in one phase (MatMul runs in the forward and in both gradients of an FC layer). */
export interface KernelTotals {
  readonly name: string;
  readonly phase: Phase;
  calls: number;
  ms: number;
  macs: number;
}

interface ScopeFrame {
  kernel: false;
  scope: ScopeTotals;
  backward: boolean;
}

interface KernelFrame {
  kernel: true;
  scope: ScopeTotals;
  phase: Phase;
  totals: KernelTotals;
}

/** Totals of nothing yet: a layer that has not run (a ReLU fused into the convolution before it). */
export function newScope(module: Module | null, path: string, type: string, order = 0): ScopeTotals {
  const phases = {} as Record<Phase, PhaseTotals>;
  for (const p of PHASES) phases[p] = { ms: 0, kernelMs: 0, kernelCalls: 0, macs: 0 };
  return { module, path, type, output: null, calls: 0, phases, order };
}

/** The row of the time spent outside every module (the caller's own code, tidy scopes, ...). */
export const OUTSIDE = '(outside modules)';

export class ProfileRecording implements ProfileRecorder {
  private readonly scopes = new Map<object | string, ScopeTotals>();
  private readonly kernelTotals = new Map<string, KernelTotals>();
  private readonly nodeScopes = new WeakMap<object, ScopeTotals>();
  private readonly frames: (ScopeFrame | KernelFrame)[] = [];
  private readonly outside: ScopeTotals;
  private last = 0;

  constructor() {
    this.outside = this.scopeFor(OUTSIDE, null, OUTSIDE, '');
  }

  get scopeList(): ScopeTotals[] {
    return [...this.scopes.values()];
  }

  get kernelList(): KernelTotals[] {
    return [...this.kernelTotals.values()];
  }

  /** Starts charging time (at the start of a measured step); returns the time it starts from. */
  beginStep(): number {
    this.frames.length = 0;
    this.last = performance.now();
    return this.last;
  }

  /** Charges the time up to now and returns it; nothing is charged until the next beginStep. */
  endStep(): number {
    this.charge();
    this.frames.length = 0;
    return this.last;
  }

  kernelStart(name: KernelName, role: GradRole | undefined, args: readonly unknown[]): void {
    this.charge();
    const top = this.frames[this.frames.length - 1];
    const scope = top?.scope ?? this.outside;
    let phase: Phase;
    if (top?.kernel) phase = top.phase;
    else if (top?.backward) phase = role === 'input' ? 'inputGrad' : role === 'weight' ? 'weightGrad' : 'otherBackward';
    else phase = 'forward';
    const key = `${name} ${phase}`;
    let totals = this.kernelTotals.get(key);
    if (!totals) this.kernelTotals.set(key, (totals = { name, phase, calls: 0, ms: 0, macs: 0 }));
    const macs = kernelMacs(name, args);
    totals.calls++;
    totals.macs += macs;
    const p = scope.phases[phase];
    p.kernelCalls++;
    p.macs += macs;
    this.frames.push({ kernel: true, scope, phase, totals });
  }

  kernelEnd(): void {
    this.charge();
    this.frames.pop();
  }

  moduleStart(module: object): void {
    this.enter(module, () => (module instanceof Module ? [module, module.path, module.typeName] : [null, '(unknown)', module.constructor.name]));
  }

  moduleEnd(output: unknown): void {
    this.charge();
    const frame = this.frames.pop();
    if (frame && output instanceof Tensor) frame.scope.output = output.shape.slice(1);
  }

  /** A named stretch of the caller's code (`profileRegion`), listed as its own row. */
  regionStart(label: string): void {
    this.enter(label, () => [null, label, '']);
  }

  regionEnd(): void {
    this.charge();
    this.frames.pop();
  }

  nodeRecorded(node: object): void {
    this.nodeScopes.set(node, this.frames[this.frames.length - 1]?.scope ?? this.outside);
  }

  backwardStart(node: object): void {
    this.charge();
    this.frames.push({ kernel: false, scope: this.nodeScopes.get(node) ?? this.outside, backward: true });
  }

  backwardEnd(): void {
    this.charge();
    this.frames.pop();
  }

  private enter(key: object | string, describe: () => [Module | null, string, string]): void {
    this.charge();
    let scope = this.scopes.get(key);
    if (!scope) {
      const [module, path, type] = describe();
      scope = this.scopeFor(key, module, path, type);
    }
    scope.calls++;
    this.frames.push({ kernel: false, scope, backward: false });
  }

  private scopeFor(key: object | string, module: Module | null, path: string, type: string): ScopeTotals {
    const scope = newScope(module, path, type, this.scopes.size);
    this.scopes.set(key, scope);
    return scope;
  }

  /** The time since the last event goes to what was running: the innermost kernel or scope. */
  private charge(): void {
    const now = performance.now();
    const dt = now - this.last;
    this.last = now;
    const top = this.frames[this.frames.length - 1];
    if (!top) {
      this.outside.phases.forward.ms += dt;
    } else if (top.kernel) {
      const p = top.scope.phases[top.phase];
      p.ms += dt;
      p.kernelMs += dt;
      top.totals.ms += dt;
    } else {
      top.scope.phases[top.backward ? 'otherBackward' : 'forward'].ms += dt;
    }
  }
}
