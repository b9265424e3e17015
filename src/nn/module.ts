import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { activeRecorder } from '../backend/profiler-hooks.js';
import { Parameter } from './parameter.js';
import { registeredName } from './registry.js';
import type { StateDictSource } from '../models/torchvision-names.js';
import { stateDictReader } from './state-dict-sources.js';

/** Called after a module's forward with its inputs and output (see `Module.registerForwardHook`). */
export type ForwardHook = (module: Module, inputs: readonly unknown[], output: unknown) => void;

/** Returned by `registerForwardHook`; `remove()` unregisters the hook. */
export interface HookHandle {
  /** Unregisters the hook; calling it again does nothing. */
  remove(): void;
}

/** A JSON description of a module, enough to rebuild it with `fromConfig`. */
export interface ModuleConfig {
  type: string;
  args: unknown[];
}

/**
 * The base of every layer and model. Sub-modules and Parameters are found on the instance's
 * own properties (in declaration order; arrays of modules count as numbered lists), so a
 * layer only assigns them: `this.weight = new Parameter(...)`, `this.conv = new Conv2d(...)`.
 * Buffers (batch norm running statistics) are registered explicitly. `forward` is wrapped so
 * that hooks run and errors name the module's dotted path, e.g. `features.3 (Conv2d): ...`.
 */
export abstract class Module {
  training = true;
  private parentRef: { module: Module; name: string } | null = null;
  private hooks: ForwardHook[] = [];
  private bufferMap = new Map<string, Tensor>();
  /** Constructor arguments for getConfig(); layers set it in their constructor. */
  protected configArgs: unknown[] | null = null;
  /** The class's forward and the wrapper installed in its place (see runsPlainForward). */
  private forwardPair: { inner: (...a: Tensor[]) => Tensor; wrapped: (...a: Tensor[]) => Tensor };

  constructor() {
    const inner = this.forward;
    const wrapped = (...args: Tensor[]) => this.runForward(inner, args);
    Object.defineProperty(this, 'forward', { value: wrapped, enumerable: false, writable: true });
    this.forwardPair = { inner, wrapped };
    for (const key of ['parentRef', 'hooks', 'bufferMap', 'configArgs', 'training', 'forwardPair']) {
      Object.defineProperty(this, key, { enumerable: false, writable: true });
    }
  }

  /** Computes the module's output from its input tensors (called through a wrapper that runs hooks and names the module in errors). */
  abstract forward(...inputs: Tensor[]): Tensor;

  /**
   * The layer's name in errors, summaries and saved files: the name its class was registered
   * under (which survives minification), else the class name.
   */
  get typeName(): string {
    return registeredName(this.constructor) ?? this.constructor.name;
  }

  /** Dotted path from the root module, e.g. `features.3` ('' for the root). */
  get path(): string {
    const parts: string[] = [];
    let m: Module = this;
    while (m.parentRef) {
      parts.unshift(m.parentRef.name);
      m = m.parentRef.module;
    }
    return parts.join('.');
  }

  private runForward(inner: (...a: Tensor[]) => Tensor, args: Tensor[]): Tensor {
    const out = this.located(() => inner.apply(this, args));
    for (const h of this.hooks) h(this, args, out);
    return out;
  }

  /**
   * Runs `fn` as forward() runs the module's own code, minus the hooks: children learn their
   * parent first, and a ConvkitError gets this module's path in front (`features.3 (Conv2d): ...`).
   * For a layer's other entry points (forwardFused) that must read like forward.
   */
  protected located<T>(fn: () => T): T {
    // Children learn their parent here, so that errors and hooks deeper down know their path.
    this.linkChildren();
    // A profile (analysis/profile.ts) charges the time spent here to this module.
    const recorder = activeRecorder();
    let out: T | undefined;
    recorder?.moduleStart(this);
    try {
      out = fn();
      return out;
    } catch (e) {
      if (e instanceof ConvkitError && !(e as { located?: boolean }).located) {
        const where = this.path || 'model';
        e.message = `${where} (${this.typeName}): ${e.message}`;
        (e as { located?: boolean }).located = true;
      }
      throw e;
    } finally {
      recorder?.moduleEnd(out);
    }
  }

  /**
   * Whether forward() would run exactly `method` and nothing else: no forward hooks are
   * registered, a subclass did not override it, and nobody replaced `forward` on the instance
   * (ONNX export's tracing does). Only then may a caller get the same output another way, e.g.
   * one fused kernel for a layer and the ReLU after it (nn/fusion.ts), unseen by anyone.
   */
  runsPlainForward(method: (...a: Tensor[]) => Tensor): boolean {
    const own = this.forwardPair as typeof this.forwardPair | undefined; // absent on a hand-made copy
    return this.hooks.length === 0 && own !== undefined && own.inner === method && this.forward === own.wrapped;
  }

  /**
   * Whether anything besides the class's own code runs when forward() is called: a forward
   * hook, or a forward replaced on the instance (ONNX export's tracing does). A fused
   * inference step covering this module then runs it as it is (nn/optimize-for-inference.ts).
   */
  get watched(): boolean {
    const own = this.forwardPair as typeof this.forwardPair | undefined; // absent on a hand-made copy
    return this.hooks.length > 0 || own === undefined || this.forward !== own.wrapped;
  }

  /**
   * namedChildren()'s walk, telling each child its parent and name: a new parentRef only where
   * it changed (forward runs this for every module on every call, so it allocates nothing then).
   */
  private linkChildren(): void {
    const self = this as unknown as Record<string, unknown>;
    for (const key of Object.keys(self)) {
      const value = self[key];
      if (value instanceof Module) value.linkTo(this, key);
      else if (Array.isArray(value) && value.length && value.every((v) => v instanceof Module)) {
        for (let i = 0; i < value.length; i++) (value[i] as Module).linkTo(this, `${key}.${i}`);
      }
    }
  }

  private linkTo(parent: Module, name: string): void {
    const r = this.parentRef;
    if (r === null || r.module !== parent || r.name !== name) this.parentRef = { module: parent, name };
  }

  /** Direct children in declaration order; arrays of modules are numbered `name.0`, `name.1`, ... */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value) && value.length && value.every((v) => v instanceof Module)) {
        value.forEach((v: Module, i) => out.push([`${key}.${i}`, v]));
      }
    }
    return out;
  }

  /** Direct children in declaration order (the modules of `namedChildren()`). */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every descendant, depth first, with dotted paths. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) {
      child.parentRef = { module: this, name };
      out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    }
    return out;
  }

  /** This module and every descendant, depth first. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** This module's own parameters (not its children's). */
  protected ownParameters(): [string, Parameter][] {
    return Object.entries(this).filter((e): e is [string, Parameter] => e[1] instanceof Parameter);
  }

  /** Every parameter of this module and its descendants, once each, with dotted names (`features.0.weight`). */
  namedParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([prefix ? `${prefix}.${name}` : name, p]);
      }
    }
    return out;
  }

  /**
   * Copies every parameter and buffer whose values are on the GPU (the webgpu backend) back to
   * the host as well, so that synchronous reads (stateDict() for saving, `.values()`) work.
   * Does nothing on the other backends.
   */
  async sync(): Promise<void> {
    for (const p of this.parameters()) await p.storage.read();
    for (const [, b] of this.namedBuffers()) await b.storage.read();
  }

  /** Every parameter of this module and its descendants, once each (what an optimizer takes). */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Registers a non-trainable state tensor saved with the model (e.g. `running_mean`). */
  protected registerBuffer(name: string, value: Tensor): Tensor {
    this.bufferMap.set(name, value);
    return keep(value);
  }

  /** Every buffer (non-trainable state such as batch norm running statistics) with dotted names. */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, b] of m.bufferMap) out.push([prefix ? `${prefix}.${name}` : name, b]);
    }
    return out;
  }

  /** Sets training mode (dropout active, batch norm uses batch statistics) on this module and every descendant. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Sets evaluation mode on this module and every descendant: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Clears every parameter's gradient (sets it to null, as PyTorch's default). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Marks every parameter as trainable or frozen. */
  requiresGrad(flag = true): this {
    for (const p of this.parameters()) p.requiresGrad = flag;
    return this;
  }

  /** Parameters then buffers by dotted name; the tensors are the live ones, not copies. */
  stateDict(): Map<string, Tensor> {
    return new Map<string, Tensor>([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values into this module's parameters and buffers. Missing, unexpected and
   * mis-shaped keys are all listed in one error, and nothing is changed when any is found.
   * `from: 'torchvision'` reads torchvision's names (models/torchvision-names.ts) for the zoo
   * models torchvision also has.
   */
  loadStateDict(state: Map<string, Tensor> | Record<string, Tensor>, opts: { strict?: boolean; from?: StateDictSource } = {}): void {
    const strict = opts.strict ?? true;
    const given = opts.from !== undefined ? stateDictReader(opts.from)(this, state, { strict }) : state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.stateDict();
    const problems: string[] = [];
    const missing = [...own.keys()].filter((k) => !given.has(k));
    const unexpected = [...given.keys()].filter((k) => !own.has(k));
    if (strict && missing.length) problems.push(`missing keys: ${missing.join(', ')}`);
    if (strict && unexpected.length) problems.push(`unexpected keys: ${unexpected.join(', ')}`);
    for (const [k, t] of given) {
      const mine = own.get(k);
      // A value read from JSON or a typo'd object is not a Tensor: say so instead of a TypeError.
      if (!(t instanceof Tensor)) {
        problems.push(`${k}: expected a Tensor, got ${Array.isArray(t) ? 'an array' : t === null ? 'null' : typeof t}`);
        continue;
      }
      if (mine && mine.shape.join() !== t.shape.join()) {
        problems.push(`${k}: expected shape ${fmtShape(mine.shape)}, got ${fmtShape(t.shape)}`);
      }
    }
    if (problems.length) throw new ConvkitError(`loadStateDict: ${problems.join('; ')}`);
    for (const [k, t] of given) {
      const mine = own.get(k);
      if (!mine) continue;
      const values = t.values();
      (mine.storage.data as Float32Array | Int32Array).set(values, mine.offset);
    }
  }

  /** Calls `hook(module, inputs, output)` after every forward of this module, until the handle's `remove()`. */
  registerForwardHook(hook: ForwardHook): HookHandle {
    this.hooks.push(hook);
    Module.forwardHooks++;
    return {
      remove: () => {
        if (!this.hooks.includes(hook)) return;
        this.hooks = this.hooks.filter((h) => h !== hook);
        Module.forwardHooks--;
      },
    };
  }

  /**
   * Forward hooks registered on any module and not removed. While there are none, nothing but
   * the layers themselves sees the activations between them, so inference may free each one
   * as soon as the next layer has run (nn/optimize-for-inference.ts, nn/fusion.ts runLayers).
   */
  static forwardHooks = 0;

  /** Applies fn to this module and every descendant. */
  apply(fn: (m: Module) => void): this {
    for (const m of this.modules()) fn(m);
    return this;
  }

  /** Saves architecture + weights to a convkit model file (Node; atomic). Installed by src/io. */
  save(file: string, metadata?: Record<string, unknown>): Promise<void> {
    if (!Module.saveImpl) throw new ConvkitError('saving needs the io module; import convkit rather than its nn module alone');
    return Module.saveImpl(this, file, metadata);
  }

  /** @internal The file writer behind `save`, installed by io/save-load.ts (keeps file code out of nn). */
  static saveImpl: ((m: Module, file: string, metadata?: Record<string, unknown>) => Promise<void>) | null = null;

  /** How to rebuild this module (see nn/registry.ts). */
  getConfig(): ModuleConfig {
    if (!this.configArgs) {
      throw new ConvkitError(
        `${this.typeName} cannot describe itself for saving; set this.configArgs in its constructor and register it with ck.nn.register('${this.typeName}', ${this.typeName})`,
      );
    }
    return { type: this.typeName, args: this.configArgs };
  }

  /** One line per module: `features.0: Conv2d(3, 64, kernelSize=3, ...)`. */
  toString(): string {
    return this.namedModules()
      .map(([p, m]) => `${'  '.repeat(p ? p.split('.').length : 0)}${p || '(root)'}: ${m.describe()}`)
      .join('\n');
  }

  /** A one-line description of hyperparameters; layers override it. */
  describe(): string {
    return this.typeName;
  }
}
