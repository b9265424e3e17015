import { getBackendName } from '../backend/registry.js';
import { activeRecorder, setActiveRecorder } from '../backend/profiler-hooks.js';
import type { Module } from '../nn/module.js';
import { ConvkitError } from '../tensor/errors.js';
import { formatProfile } from './profile-format.js';
import { newScope, OUTSIDE, PHASES, ProfileRecording, type Phase, type ScopeTotals } from './profile-recorder.js';

export type { Phase } from './profile-recorder.js';

/**
 * `ck.profile(fn)`: where the time of a step goes, per layer and per kernel, like
 * torch.profiler's table. Every layer's row splits its time into forward, the input's
 * gradient, the weights' (filters and bias) gradient and other backward work, with the
 * multiply-adds its kernels did and the GFLOP/s that makes; every kernel's row has its calls
 * and time. The rows add up to the measured step (time is charged exclusively, see
 * profile-recorder.ts); what is not inside a kernel (argument checks, autograd bookkeeping,
 * copies, an optimizer written in JS) is the "outside kernels" share.
 *
 * fn runs `warmup` times unmeasured, then `steps` times measured; the report gives the mean
 * per step. While no profile runs, the hooks it uses cost one null check each.
 */

export interface ProfileOptions {
  /** Measured runs of fn (default 1); the report is their mean. */
  steps?: number;
  /** Unmeasured runs first (default 0): the first run of a model pays one-off costs. */
  warmup?: number;
  /**
   * The model fn runs: rows then follow its layers in order and include layers that never ran
   * on their own (a ReLU fused into the convolution before it shows 0 calls).
   */
  model?: Module;
  /** A title for the printed table. */
  title?: string;
}

/** Multiply-adds of a layer per step, by phase: forward, input gradient, weight gradient. */
export interface PhaseNumbers {
  forward: number;
  inputGrad: number;
  weightGrad: number;
}

/** GFLOP/s of a layer per phase (null where the phase took no measurable time or has no arithmetic). */
export interface PhaseRates {
  forward: number | null;
  inputGrad: number | null;
  weightGrad: number | null;
  /** All the layer's multiply-adds over its forward and gradient time. */
  total: number | null;
}

/** One row of a profile: a module (or a region) with its calls, times per phase and arithmetic. */
export interface ProfileLayerRow {
  /** Dotted path (`features.3`; '' for the root module), or a region's label in parentheses. */
  path: string;
  /** The module's class ('' for regions and the time outside modules). */
  type: string;
  /** Per-item output shape of the layer's last forward ([C, H, W] or [F]); null when it did not run. */
  output: number[] | null;
  /** Forward calls per step. */
  calls: number;
  forwardMs: number;
  inputGradMs: number;
  weightGradMs: number;
  /** Backward work that is neither gradient (activation masks, batch norm's combined gradient, summing gradients that meet). */
  otherBackwardMs: number;
  totalMs: number;
  /** The part of totalMs spent inside kernels. */
  kernelMs: number;
  /** totalMs over the step's. */
  share: number;
  /** Multiply-adds per step done by the layer's CONV / FC kernels (0 for other layers). */
  macs: PhaseNumbers;
  /** Billions of floating-point operations (2 per multiply-add) per second; null without multiply-adds. */
  gflops: PhaseRates;
}

/** One kernel in one phase: MatMul, say, has a row for an FC layer's forward and one for each of its gradients. */
export interface ProfileKernelRow {
  name: string;
  phase: Phase;
  /** Calls per step. */
  calls: number;
  ms: number;
  /** ms over the step's. */
  share: number;
  macs: number;
  gflops: number | null;
}

/** What `profile` measured: the runs, their wall times and a row per layer; `format()` prints it. */
export interface ProfileReport {
  title: string;
  backend: string;
  steps: number;
  warmup: number;
  /** Wall time of each measured run of fn. */
  stepMs: number[];
  /** Their mean: the step the rows add up to. */
  totalMs: number;
  /** Their median: far below the mean when a few steps were slowed down (other processes, garbage collection). */
  medianStepMs: number;
  /** Sum of the layer rows (equal to totalMs up to the profiler's own bookkeeping). */
  attributedMs: number;
  /** Time inside kernels per step, and the rest. */
  kernelMs: number;
  outsideKernelsMs: number;
  outsideKernelsShare: number;
  layers: ProfileLayerRow[];
  kernels: ProfileKernelRow[];
  /** The report as text tables (also `formatProfile(report)`). */
  format(): string;
}

interface Plan {
  steps: number;
  warmup: number;
}

function checkCount(value: unknown, name: string, min: number): number {
  if (value === undefined) return min === 0 ? 0 : 1;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ConvkitError(`profile: ${name} must be an integer of at least ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Runs fn the planned number of times, recording the measured ones. */
class Session {
  readonly recording = new ProfileRecording();
  readonly stepMs: number[] = [];
  private calls = 0;
  private started = 0;

  constructor(readonly plan: Plan) {}

  get done(): boolean {
    return this.calls >= this.plan.warmup + this.plan.steps;
  }

  private get measured(): boolean {
    return this.calls >= this.plan.warmup;
  }

  before(): void {
    if (!this.measured) return;
    // The step is the interval the recording covers, so that every part of it is in a row
    // (a pause for garbage collection can fall on either side of a boundary).
    this.started = this.recording.beginStep();
    setActiveRecorder(this.recording);
  }

  after(): void {
    if (this.measured) {
      setActiveRecorder(null);
      this.stepMs.push(this.recording.endStep() - this.started);
    }
    this.calls++;
  }

  abort(): void {
    if (activeRecorder() === this.recording) setActiveRecorder(null);
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

/**
 * Profiles fn (see the file comment). A synchronous fn gives the report at once; an async one
 * (returning a promise) gives a promise of it. Profiles do not nest.
 */
export function profile(fn: () => Promise<unknown>, opts?: ProfileOptions): Promise<ProfileReport>;
export function profile(fn: () => unknown, opts?: ProfileOptions): ProfileReport;
export function profile(fn: () => unknown, opts: ProfileOptions = {}): ProfileReport | Promise<ProfileReport> {
  if (typeof fn !== 'function') throw new ConvkitError(`profile: expected a function to run, got ${typeof fn}`);
  const plan = { steps: checkCount(opts.steps, 'steps', 1), warmup: checkCount(opts.warmup, 'warmup', 0) };
  if (activeRecorder()) throw new ConvkitError('profile: another profile is running; profiles do not nest');
  const session = new Session(plan);
  while (!session.done) {
    session.before();
    let result: unknown;
    try {
      result = fn();
    } catch (e) {
      session.abort();
      throw e;
    }
    if (isThenable(result)) return finishAsync(session, fn, result, opts);
    session.after();
  }
  return buildReport(session, opts);
}

async function finishAsync(session: Session, fn: () => unknown, pending: PromiseLike<unknown>, opts: ProfileOptions): Promise<ProfileReport> {
  try {
    await pending;
    session.after();
    while (!session.done) {
      session.before();
      await fn();
      session.after();
    }
  } catch (e) {
    session.abort();
    throw e;
  }
  return buildReport(session, opts);
}

/**
 * Runs fn as a named row of the profile running now ('(loss)', '(optimizer)'); without a
 * profile it just runs fn.
 */
export function profileRegion<T>(label: string, fn: () => T): T {
  const recorder = activeRecorder();
  if (!(recorder instanceof ProfileRecording)) return fn();
  recorder.regionStart(label);
  try {
    return fn();
  } finally {
    recorder.regionEnd();
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const rate = (macs: number, ms: number): number | null => (macs > 0 && ms > 0 ? (2 * macs) / (ms * 1e6) : null);

function layerRow(s: ScopeTotals, steps: number, totalMs: number): ProfileLayerRow {
  const per = (phase: Phase) => s.phases[phase].ms / steps;
  const macs = (phase: Phase) => s.phases[phase].macs / steps;
  const totalRowMs = PHASES.reduce((a, p) => a + per(p), 0);
  const m: PhaseNumbers = { forward: macs('forward'), inputGrad: macs('inputGrad'), weightGrad: macs('weightGrad') };
  const allMacs = m.forward + m.inputGrad + m.weightGrad + macs('otherBackward');
  return {
    path: s.path,
    type: s.type,
    output: s.output,
    calls: s.calls / steps,
    forwardMs: per('forward'),
    inputGradMs: per('inputGrad'),
    weightGradMs: per('weightGrad'),
    otherBackwardMs: per('otherBackward'),
    totalMs: totalRowMs,
    kernelMs: PHASES.reduce((a, p) => a + s.phases[p].kernelMs, 0) / steps,
    share: totalMs > 0 ? totalRowMs / totalMs : 0,
    macs: m,
    gflops: {
      forward: rate(m.forward, per('forward')),
      inputGrad: rate(m.inputGrad, per('inputGrad')),
      weightGrad: rate(m.weightGrad, per('weightGrad')),
      total: rate(allMacs, totalRowMs),
    },
  };
}

/** Rows in the model's layer order when a model is given (layers that never ran included), else in first-run order. */
function orderedScopes(recording: ProfileRecording, model: Module | undefined): ScopeTotals[] {
  const seen = recording.scopeList;
  const outside = seen.filter((s) => s.path === OUTSIDE && s.module === null);
  const rest = seen.filter((s) => !outside.includes(s)).sort((a, b) => a.order - b.order);
  if (!model) return [...rest, ...outside];
  const byModule = new Map(rest.filter((s) => s.module).map((s) => [s.module!, s]));
  const ordered: ScopeTotals[] = [];
  for (const [path, m] of model.namedModules()) {
    const s = byModule.get(m);
    if (s) {
      ordered.push(s);
      byModule.delete(m);
    } else if (m.namedChildren().length === 0) {
      ordered.push(newScope(m, path, m.typeName));
    }
  }
  const others = rest.filter((s) => !s.module || byModule.has(s.module));
  return [...ordered, ...others, ...outside];
}

function buildReport(session: Session, opts: ProfileOptions): ProfileReport {
  const { steps, warmup } = session.plan;
  const totalMs = session.stepMs.reduce((a, b) => a + b, 0) / steps;
  const layers = orderedScopes(session.recording, opts.model).map((s) => layerRow(s, steps, totalMs));
  const kernels: ProfileKernelRow[] = session.recording.kernelList
    .map((k) => ({
      name: k.name,
      phase: k.phase,
      calls: k.calls / steps,
      ms: k.ms / steps,
      share: totalMs > 0 ? k.ms / steps / totalMs : 0,
      macs: k.macs / steps,
      gflops: rate(k.macs / steps, k.ms / steps),
    }))
    .sort((a, b) => b.ms - a.ms);
  const kernelMs = kernels.reduce((a, k) => a + k.ms, 0);
  const report: Omit<ProfileReport, 'format'> = {
    title: opts.title ?? 'profile',
    backend: getBackendName(),
    steps,
    warmup,
    stepMs: session.stepMs,
    totalMs,
    medianStepMs: median(session.stepMs),
    attributedMs: layers.reduce((a, r) => a + r.totalMs, 0),
    kernelMs,
    outsideKernelsMs: Math.max(0, totalMs - kernelMs),
    outsideKernelsShare: totalMs > 0 ? Math.max(0, totalMs - kernelMs) / totalMs : 0,
    layers,
    kernels,
  };
  // A method that JSON.stringify leaves out: the report stays plain data for --json.
  Object.defineProperty(report, 'format', { value: () => formatProfile(report), enumerable: false });
  return report as ProfileReport;
}
