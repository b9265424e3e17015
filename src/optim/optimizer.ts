import { noGrad } from '../autograd/tape.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import { getBackend } from '../backend/registry.js';
import { currentDeviceMemory, deviceValues } from '../backend/device-args.js';
import { isDeviceArray, type DeviceMemory } from '../tensor/device-array.js';
import type { Storage } from '../tensor/storage.js';

/**
 * The base of every optimizer: parameter groups, the step loop, zeroGrad and checkpoints.
 * Subclasses supply only their hyperparameters (defaults + validation) and one tight loop that
 * updates a parameter's values from its gradient and its state.
 *
 * Optimizer state lives in plain Float32Arrays, not Tensors: a training step usually runs
 * inside `tidy()`, which would free any tensor the optimizer made there.
 */

/** A hyperparameter value as held in a param group and in a state dict. */
export type HyperValue = number | boolean | readonly number[];

/** The hyperparameter every optimizer has; `lr` is what schedules change. */
export interface BaseHyper {
  lr: number;
}

/** Parameters sharing hyperparameters. Change `lr` (or others) between steps freely. */
export type ParamGroup<H extends BaseHyper> = H & { readonly params: Tensor[] };

/** A group as passed in: its parameters plus overrides of the optimizer's options. */
export type ParamGroupInput<H extends BaseHyper> = Partial<H> & { params: Iterable<Tensor> };

/** What an optimizer takes: parameters (e.g. `model.parameters()`) or a list of groups. */
export type Params<H extends BaseHyper> = Iterable<Tensor> | readonly ParamGroupInput<H>[];

/** Per-parameter state: a step count plus buffers allocated on first use (null before). */
export interface ParamState {
  step: number;
}

export type StateValue = number | Float32Array | null;

/** A group in a state dict: its hyperparameters and its parameters as indices. */
export type SavedParamGroup = { params: number[] } & { [key: string]: HyperValue };

/**
 * A checkpoint of an optimizer: JSON data plus Float32Arrays (number[] is accepted on load,
 * for state that went through JSON). Parameters are numbered in group order.
 */
export interface OptimizerStateDict {
  type: string;
  paramGroups: SavedParamGroup[];
  /** Element count of every parameter, by index, so that a mismatched model is caught. */
  paramSizes: number[];
  /** By parameter index; null for a parameter that has not been updated yet. */
  state: ({ [key: string]: StateValue | number[] } | null)[];
}

/** A parameter to update: its values (a view of its storage), its gradient and its state. */
export interface GroupEntry<S extends ParamState> {
  readonly w: Float32Array;
  readonly g: Float32Array;
  readonly state: S;
}

/**
 * A zeroed state buffer of n floats. A backend with its own memory (wasm) may hold it there,
 * so that its update kernel reads and writes it in place instead of copying it in and out on
 * every step; it is then a kept tensor's storage, freed when the optimizer drops the array.
 */
export function stateBuffer(n: number): Float32Array {
  const a = new Float32Array(n);
  const device = currentDeviceMemory();
  if (device) return deviceState(a, device);
  const backend = getBackend();
  if (!backend.adopt || n < STATE_ADOPT_MIN) return a;
  const t = keep(new Tensor(a, [n]));
  backend.adopt(t.storage);
  return t.storage.data as Float32Array;
}

/**
 * On a device backend (webgpu) an optimizer's state lives on the device: each state array there
 * has a kept storage, which the update kernels write in place and which `sync()` copies back
 * for `stateDict()`.
 */
const deviceStates = new WeakMap<object, Storage>();

/** A state buffer's values on the device (uploaded once from `host`). */
function deviceState(host: Float32Array, device: DeviceMemory): Float32Array {
  const s = keep(new Tensor(host, [host.length])).storage;
  const a = s.onDevice(device);
  deviceStates.set(a, s);
  return a as unknown as Float32Array;
}

/** A state value as the update kernel takes it: on the device when the backend keeps tensors there. */
function stateOn(a: Float32Array | null, device: DeviceMemory | null): Float32Array | null {
  if (a === null || device === null || isDeviceArray(a)) return a;
  return deviceState(a, device);
}

/** A state value as stateDict() saves it: a host copy (a device one must have been synced). */
function stateHost(value: Float32Array, optimizer: string): Float32Array {
  if (!isDeviceArray(value)) return value.slice();
  const s = deviceStates.get(value);
  if (!s?.onHost) {
    throw new ConvkitError(`${optimizer}.stateDict: the optimizer's state is on the GPU; await optimizer.sync() first (the Trainer does)`);
  }
  return (s.peek() as Float32Array).slice();
}

/** Smaller buffers are cheap to copy in (as kernel-io's ADOPT_MIN_ELEMENTS for parameters). */
const STATE_ADOPT_MIN = 1024;

/** What a subclass tells the base: its name, its defaults and how to check a group. */
export interface OptimizerSpec<H extends BaseHyper, S extends ParamState> {
  name: string;
  /** Every hyperparameter with its default; undefined marks a required one (SGD's lr). */
  defaults: { [K in keyof H]: H[K] | undefined };
  validate(h: H): void;
  newState(): S;
}

export abstract class Optimizer<H extends BaseHyper = BaseHyper, S extends ParamState = ParamState> {
  readonly paramGroups: ParamGroup<H>[] = [];
  protected readonly state = new Map<Tensor, S>();
  private readonly spec: OptimizerSpec<H, S>;
  /** The constructor's options: what groups added later fall back on. */
  private readonly options: Partial<H>;

  protected constructor(params: Params<H>, options: Partial<H>, spec: OptimizerSpec<H, S>) {
    this.spec = spec;
    checkKeys(spec.name, options, spec.defaults, 'options');
    this.options = { ...options };
    if (params instanceof Tensor || typeof (params as Partial<Iterable<unknown>>)?.[Symbol.iterator] !== 'function') {
      throw new ConvkitError(
        `${spec.name}: parameters must be a list (e.g. model.parameters() or [w, b]) or a list of param groups, got ${params instanceof Tensor ? 'a single Tensor' : typeof params}`,
      );
    }
    const list = [...(params as Iterable<Tensor | ParamGroupInput<H>>)];
    if (list.length === 0) {
      throw new ConvkitError(`${spec.name}: got an empty parameter list; pass model.parameters() or a list of param groups`);
    }
    const groups: ParamGroupInput<H>[] = list.every((x) => x instanceof Tensor)
      ? [{ params: list as Tensor[] } as unknown as ParamGroupInput<H>]
      : (list as ParamGroupInput<H>[]);
    groups.forEach((g, i) => {
      if (g instanceof Tensor || typeof g !== 'object' || g === null || !('params' in g)) {
        throw new ConvkitError(
          `${spec.name}: element ${i} of the parameter list is neither a Tensor nor a param group {params, ...}; do not mix the two`,
        );
      }
      this.addGroup(g, `param group ${i}`);
    });
  }

  get typeName(): string {
    return this.spec.name;
  }

  /** The first group's learning rate (all groups share it unless groups set their own). */
  get lr(): number {
    return this.paramGroups[0]!.lr;
  }

  /** Sets the learning rate of every group. */
  set lr(value: number) {
    checkNonNegative(this.spec.name, 'lr', value);
    for (const g of this.paramGroups) g.lr = value;
  }

  /** Adds a group (e.g. layers unfrozen while fine-tuning); missing options come from the constructor's options, then the defaults. */
  addParamGroup(group: ParamGroupInput<H>): void {
    this.addGroup(group, `param group ${this.paramGroups.length}`);
  }

  /**
   * One update of every parameter that requires grad and has a gradient, in place (views and
   * modules holding the parameter see the new values). Frozen parameters and those without a
   * gradient are skipped and their state, step count included, stays as it was (as PyTorch).
   */
  step(): void {
    const device = currentDeviceMemory();
    noGrad(() => {
      for (const group of this.paramGroups) {
        // Groups are mutable (schedules, the UI), so a bad value set since is caught here; it is cheap.
        this.spec.validate(group);
        const entries: GroupEntry<S>[] = [];
        for (const p of group.params) {
          if (!p.requiresGrad || p.grad === null) continue;
          let st = this.state.get(p);
          if (st === undefined) {
            st = this.spec.newState();
            this.state.set(p, st);
          }
          if (device) {
            entries.push({ w: this.paramOnDevice(p, device), g: this.gradOnDevice(p, device), state: this.stateOnDevice(st, device) });
            continue;
          }
          const w = (p.storage.data as Float32Array).subarray(p.offset, p.offset + p.size);
          entries.push({ w, g: this.gradValues(p), state: st });
        }
        if (entries.length) this.updateGroup(entries, group);
        // The kernels wrote the device copies: the host copies are stale now.
        if (device) {
          for (const p of group.params) if (p.requiresGrad && p.grad !== null) p.storage.deviceWritten();
          for (const e of entries) for (const v of Object.values(e.state)) if (v !== null && typeof v === 'object') deviceStates.get(v)?.deviceWritten();
        }
      }
    });
  }

  /**
   * Clears every gradient: sets it to null (PyTorch's set_to_none default) and frees the old
   * gradient's storage now. Gradients are kept alive past tidy() scopes, so without this they
   * would pile up until the garbage collector runs and memory would not stay flat over a long
   * synchronous training loop. Copy a gradient (`dataSync()`, `clone()`) to keep it longer.
   */
  zeroGrad(): void {
    const params = this.paramGroups.flatMap((group) => group.params);
    // A gradient set by hand to a view of a parameter must not take the parameter with it.
    const paramStorage = new Set(params.map((p) => p.storage));
    for (const p of params) {
      const g = p.grad;
      if (g === null) continue;
      p.grad = null;
      if (!paramStorage.has(g.storage)) g.dispose();
    }
  }

  /**
   * Updates one parameter's values `w` (a view of its storage) from its gradient `g`.
   * This is the hot loop of every training step: keep it a flat loop over the arrays.
   */
  protected abstract update(w: Float32Array, g: Float32Array, state: S, group: ParamGroup<H>): void;

  /**
   * Updates every parameter of a group that has a gradient. Optimizers with an update kernel
   * (SGDStep, AdamStep) override this to run one kernel over all of them; the default calls
   * `update` per parameter.
   */
  protected updateGroup(entries: readonly GroupEntry<S>[], group: ParamGroup<H>): void {
    if (currentDeviceMemory()) {
      throw new ConvkitError(
        `${this.spec.name} updates parameters in JavaScript, which cannot reach tensors on the ${getBackend().name} backend; use SGD, Adam or AdamW there (their updates run on the device)`,
      );
    }
    for (const e of entries) this.update(e.w, e.g, e.state, group);
  }

  /** A copy of the optimizer's state: later steps do not change it. */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramSizes: number[] = [];
    const paramGroups = this.paramGroups.map((g) => {
      const saved: SavedParamGroup = { params: [] };
      for (const [key, value] of Object.entries(g)) {
        if (key !== 'params') saved[key] = Array.isArray(value) ? [...(value as number[])] : (value as HyperValue);
      }
      for (const p of g.params) {
        index.set(p, paramSizes.length);
        saved.params.push(paramSizes.length);
        paramSizes.push(p.size);
      }
      return saved;
    });
    const state: OptimizerStateDict['state'] = paramSizes.map(() => null);
    for (const [p, st] of this.state) {
      const entry: { [key: string]: StateValue } = {};
      for (const [key, value] of Object.entries(st)) {
        entry[key] = value instanceof Float32Array || isDeviceArray(value) ? stateHost(value as Float32Array, this.spec.name) : (value as StateValue);
      }
      state[index.get(p)!] = entry;
    }
    return { type: this.spec.name, paramGroups, paramSizes, state };
  }

  /**
   * Restores a checkpoint made by `stateDict()` of the same optimizer type over the same
   * parameters (same groups, same sizes): continuing then gives exactly the results of a run
   * that was never interrupted. Group hyperparameters (lr included) come from the checkpoint.
   */
  loadStateDict(saved: OptimizerStateDict): void {
    const name = this.spec.name;
    const fail = (msg: string): never => {
      throw new ConvkitError(`${name}.loadStateDict: ${msg}`);
    };
    if (saved?.type !== name) fail(`the state is from a ${String(saved?.type)} optimizer, not ${name}; create a ${saved?.type} to load it`);
    if (!Array.isArray(saved.paramGroups) || saved.paramGroups.length !== this.paramGroups.length) {
      fail(`the state has ${saved.paramGroups?.length} param groups but this optimizer has ${this.paramGroups.length}`);
    }
    const params = this.paramGroups.flatMap((g) => g.params);
    if (!Array.isArray(saved.paramSizes) || saved.paramSizes.length !== params.length || !Array.isArray(saved.state) || saved.state.length !== params.length) {
      fail(`the state is for ${saved.paramSizes?.length} parameters but this optimizer has ${params.length}`);
    }
    params.forEach((p, i) => {
      if (saved.paramSizes[i] !== p.size) {
        fail(`parameter ${i} has ${saved.paramSizes[i]} elements in the state but ${p.size} here (shape ${fmtShape(p.shape)}); is it the same model?`);
      }
    });
    // Check everything before changing anything, so that a failed load leaves the optimizer intact.
    const hypers = this.paramGroups.map((g, gi) => {
      const s = saved.paramGroups[gi]!;
      if (s.params?.length !== g.params.length) fail(`param group ${gi} has ${s.params?.length} parameters in the state but ${g.params.length} here`);
      const { params: _ignored, ...rest } = s;
      checkKeys(name, rest, this.spec.defaults, `param group ${gi} of the state`);
      const h = resolveHyper(this.spec, rest as Partial<H>, {}, `param group ${gi} of the state`);
      return h;
    });
    const states = params.map((p, i) => {
      const entry = saved.state[i];
      return entry === null || entry === undefined ? null : this.restoreState(entry, p, i, fail);
    });
    this.paramGroups.forEach((g, gi) => Object.assign(g, hypers[gi]));
    this.state.clear();
    params.forEach((p, i) => {
      const st = states[i];
      if (st) this.state.set(p, st);
    });
  }

  private restoreState(entry: { [key: string]: StateValue | number[] }, p: Tensor, i: number, fail: (m: string) => never): S {
    const st = this.spec.newState();
    const template = st as unknown as { [key: string]: StateValue };
    const keys = Object.keys(template);
    const extra = Object.keys(entry).filter((k) => !(k in template));
    if (extra.length) fail(`parameter ${i} has state ${extra.join(', ')} that ${this.spec.name} does not keep (it keeps ${keys.join(', ')})`);
    for (const key of keys) {
      const v = entry[key];
      if (typeof template[key] === 'number') {
        if (typeof v !== 'number' || !Number.isFinite(v)) fail(`parameter ${i}: ${key} must be a number, got ${String(v)}`);
        template[key] = v as number;
      } else if (v === null || v === undefined) {
        template[key] = null;
      } else if (v instanceof Float32Array || Array.isArray(v)) {
        if (v.length !== p.size) fail(`parameter ${i}: ${key} has ${v.length} elements but the parameter has ${p.size} (shape ${fmtShape(p.shape)})`);
        template[key] = Float32Array.from(v);
      } else {
        fail(`parameter ${i}: ${key} must be a Float32Array or null, got ${typeof v}`);
      }
    }
    return st;
  }

  private addGroup(input: ParamGroupInput<H>, where: string): void {
    const name = this.spec.name;
    const { params, ...overrides } = input;
    checkKeys(name, overrides, this.spec.defaults, where);
    const list = params instanceof Tensor ? [params] : [...(params ?? [])];
    if (list.length === 0) throw new ConvkitError(`${name}: ${where} has no parameters`);
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    list.forEach((p, i) => {
      const what = `${name}: ${where}, parameter ${i}`;
      if (!(p instanceof Tensor)) throw new ConvkitError(`${what} is not a Tensor (got ${typeof p})`);
      if (p.dtype !== 'float32') throw new ConvkitError(`${what} is ${p.dtype}; only float32 tensors can be optimized`);
      if (p.gradFn !== null) {
        throw new ConvkitError(`${what} was computed by ${p.gradFn.name}; only leaf tensors (parameters) can be optimized`);
      }
      // Updates write straight into the storage, which needs the elements in one run.
      if (!p.isContiguous()) throw new ConvkitError(`${what} is not contiguous (shape ${fmtShape(p.shape)}, strides ${fmtShape(p.strides)})`);
      if (seen.has(p)) throw new ConvkitError(`${what} (shape ${fmtShape(p.shape)}) appears more than once; each parameter may be in one group only, once`);
      seen.add(p);
    });
    const hyper = resolveHyper(this.spec, overrides as unknown as Partial<H>, this.options, where);
    this.paramGroups.push({ ...hyper, params: list } as ParamGroup<H>);
  }

  /**
   * Copies the state that lives on the device (webgpu) back to the host, so that stateDict()
   * can save it. The Trainer does this before each checkpoint.
   */
  async sync(): Promise<void> {
    for (const st of this.state.values()) {
      for (const v of Object.values(st)) if (v !== null && typeof v === 'object') await deviceStates.get(v)?.read();
    }
  }

  private paramOnDevice(p: Tensor, device: DeviceMemory): Float32Array {
    if (p.offset !== 0 || p.size !== p.storage.length) {
      throw new ConvkitError(
        `${this.spec.name}.step: on the ${getBackend().name} backend a parameter must own its whole storage (this one, of shape ${fmtShape(p.shape)}, is a view); use .clone() to make it one`,
      );
    }
    return p.storage.onDevice(device) as unknown as Float32Array;
  }

  private gradOnDevice(p: Tensor, device: DeviceMemory): Float32Array {
    this.gradValuesCheck(p);
    return deviceValues(p.grad!, device) as unknown as Float32Array;
  }

  /** The state's host arrays (restored from a checkpoint) moved to the device, in place. */
  private stateOnDevice(st: S, device: DeviceMemory): S {
    const fields = st as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(fields)) if (v instanceof Float32Array) fields[k] = stateOn(v, device);
    return st;
  }

  private gradValuesCheck(p: Tensor): void {
    const g = p.grad!;
    if (g.dtype !== 'float32' || g.size !== p.size) {
      throw new ConvkitError(
        `${this.spec.name}.step: a parameter of shape ${fmtShape(p.shape)} has a ${g.dtype} gradient of shape ${fmtShape(g.shape)}; ` +
          'the gradient must be float32 with the shape of its parameter',
      );
    }
  }

  private gradValues(p: Tensor): Float32Array {
    const g = p.grad!;
    if (g.dtype !== 'float32' || g.size !== p.size) {
      throw new ConvkitError(
        `${this.spec.name}.step: a parameter of shape ${fmtShape(p.shape)} has a ${g.dtype} gradient of shape ${fmtShape(g.shape)}; ` +
          'the gradient must be float32 with the shape of its parameter',
      );
    }
    return g.values() as Float32Array;
  }
}

/** Fills a group's hyperparameters: the group's value, else the optimizer's option, else the default. */
function resolveHyper<H extends BaseHyper, S extends ParamState>(
  spec: OptimizerSpec<H, S>,
  overrides: Partial<H>,
  options: Partial<H>,
  where: string,
): H {
  const out: Partial<H> = {};
  for (const key of Object.keys(spec.defaults) as (keyof H)[]) {
    const v = overrides[key] ?? options[key] ?? spec.defaults[key];
    if (v === undefined) {
      throw new ConvkitError(`${spec.name}: ${String(key)} is required (${where}); pass it in the options, e.g. {${String(key)}: 0.01}, or in every param group`);
    }
    out[key] = Array.isArray(v) ? ([...v] as H[keyof H]) : v;
  }
  spec.validate(out as H);
  return out as H;
}

/** Unknown option names are errors, so that `weight_decay` or a typo is not silently ignored. */
function checkKeys(name: string, given: object, known: object, where: string): void {
  for (const key of Object.keys(given)) {
    if (!(key in known)) {
      throw new ConvkitError(`${name}: unknown option '${key}' in ${where}; ${name} takes ${Object.keys(known).join(', ')}`);
    }
  }
}

// Hyperparameter checks shared by the optimizers; each message names the optimizer, the value
// and what is allowed. Written as !(ok) so that NaN fails too.

function fail(name: string, key: string, value: unknown, allowed: string): never {
  const shown = Array.isArray(value) ? `[${value.join(', ')}]` : String(value);
  throw new ConvkitError(`${name}: invalid ${key} ${shown}; ${key} must be ${allowed}`);
}

export function checkNonNegative(name: string, key: string, v: unknown): void {
  if (!(typeof v === 'number' && v >= 0 && Number.isFinite(v))) fail(name, key, v, 'a finite number >= 0');
}

export function checkPositive(name: string, key: string, v: unknown): void {
  if (!(typeof v === 'number' && v > 0 && Number.isFinite(v))) fail(name, key, v, 'a finite number > 0');
}

/** v in [lo, hi) (or [lo, hi] with `closed`). */
export function checkRange(name: string, key: string, v: unknown, lo: number, hi: number, closed = false): void {
  const ok = typeof v === 'number' && v >= lo && (closed ? v <= hi : v < hi);
  if (!ok) fail(name, key, v, `in [${lo}, ${hi}${closed ? ']' : ')'}`);
}

export function checkBoolean(name: string, key: string, v: unknown): void {
  if (typeof v !== 'boolean') fail(name, key, v, 'true or false');
}
