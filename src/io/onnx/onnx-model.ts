import { Module, type ModuleConfig } from '../../nn/module.js';
import { Parameter } from '../../nn/parameter.js';
import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { keep } from '../../tensor/scope.js';
import { Tensor } from '../../tensor/tensor.js';
import { needsGrad } from '../../autograd/tape.js';
import { foldBatchNorm } from '../../ops/batch-norm.js';
import { foldNode, runNode, type ExecEnv } from './execute.js';
import type { GraphInput, GraphNode, ParsedGraph } from './graph.js';
import { encodeModel, type ModelProto, type TensorProto } from './proto.js';
import { isFloatType } from './tensor-proto.js';

/**
 * An imported ONNX graph as an ordinary convkit Module. Float initializers become Parameters
 * (named after the initializer, dots turned into underscores so module paths stay
 * unambiguous; `onnxNames()` maps them), running statistics become buffers, and integer
 * initializers and everything computable from constants are folded at load time. `forward`
 * runs the remaining nodes in topological order with the tape on, so the model can be
 * fine-tuned: replace a node with a layer (`replaceNode`), freeze the rest, train, save.
 */

/** Marks initializers whose values live in the state dict when the graph is saved. */
export const STATE_LOCATION = 'convkit:state-dict';

export interface OnnxModelInit {
  graph: ParsedGraph;
  /** Decoded initializers by ONNX name. */
  tensors: Map<string, Tensor>;
  maxElements: number;
  /** The decoded file, kept (without weights) so that getConfig can describe the graph. */
  proto: ModelProto;
}

type Step = {
  node: GraphNode;
  module?: Module | null;
  replaced?: boolean;
  /** Fusion plan (planFusion): this node computes the Relu that alone reads its output... */
  fusedRelu?: boolean;
  /** ...and this Relu node then only passes that value on. */
  passThrough?: boolean;
  /** A Conv whose output only this BatchNormalization reads: folded into it for inference. */
  foldsNorm?: Step | null;
};

/** One step of a forward pass, as `observeNodes` reports it (the summary's tracer reads the shapes). */
export interface NodeRun {
  node: GraphNode;
  inputs: readonly (Tensor | null)[];
  outputs: readonly (Tensor | null)[];
  /** 'replaced': `module` (or nothing, when null) ran in the node's place on its first input; 'fused': the node before computed it. */
  how: 'node' | 'fused' | 'replaced';
  module: Module | null;
}

export class OnnxModel extends Module {
  /** Installed by load-onnx.ts: rebuilds a model from getConfig() args (used by ck.io.load). */
  static rebuildImpl: ((args: unknown[]) => OnnxModel) | null = null;

  readonly #opset: number;
  readonly #inputs: GraphInput[];
  readonly #outputs: string[];
  readonly #constants = new Map<string, Tensor>();
  /** ONNX initializer name -> [property name, tensor] for Parameters and buffers. */
  readonly #state = new Map<string, { prop: string; tensor: Tensor; buffer: boolean }>();
  readonly #maxElements: number;
  readonly #proto: ModelProto;
  #steps: Step[] = [];
  #used = new Set<string>();
  #lastUse = new Map<string, number>();
  #observer: ((run: NodeRun) => void) | null = null;

  constructor(init: OnnxModelInit) {
    super();
    const { graph, tensors } = init;
    this.#opset = graph.opset;
    this.#inputs = graph.inputs;
    this.#outputs = graph.outputs;
    this.#maxElements = init.maxElements;
    this.#proto = init.proto;
    this.#used = new Set([...graph.outputs, ...graph.nodes.flatMap((n) => n.inputs)]);

    // Float initializers read only as running statistics are buffers; other floats train.
    const statsOnly = new Map<string, boolean>();
    for (const n of graph.nodes) {
      n.inputs.forEach((name, i) => {
        if (!tensors.has(name)) return;
        const isStat = n.def.stateInputs?.includes(i) ?? false;
        statsOnly.set(name, (statsOnly.get(name) ?? true) && isStat);
      });
    }
    const taken = new Set<string>();
    for (const [name, t] of tensors) {
      const proto = graph.initializers.get(name)!;
      if (t.dtype !== 'float32' || !isFloatType(proto.data_type)) {
        this.#constants.set(name, t);
        // A copy, so that the kept graph does not pin the whole file's buffer.
        if (proto.raw_data?.length) proto.raw_data = proto.raw_data.slice();
        continue;
      }
      const buffer = statsOnly.get(name) === true;
      const prop = this.uniqueName(name, taken);
      const tensor = buffer ? t : new Parameter(t);
      if (buffer) this.registerBuffer(prop, tensor);
      else Object.defineProperty(this, prop, { value: tensor, enumerable: true, writable: true, configurable: true });
      this.#state.set(name, { prop, tensor, buffer });
      stripInitializer(proto);
    }
    this.foldConstants(graph.nodes);
    // The model owns these for its lifetime, even when it was built inside a tidy() scope.
    for (const t of [...this.#constants.values(), ...[...this.#state.values()].map((e) => e.tensor)]) keep(t);
    this.train(false);
  }

  /** A property name for an ONNX name: dots become underscores; clashes get a suffix. */
  private uniqueName(onnxName: string, taken: Set<string>): string {
    const base = onnxName.replace(/\./g, '_') || 'initializer';
    let name = base;
    for (let k = 2; taken.has(name) || name in this; k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  }

  private env(): ExecEnv {
    return { opset: this.#opset, training: this.training, maxElements: this.#maxElements, used: this.#used };
  }

  /** Runs, once, every node whose inputs are all constants; the rest are the forward pass. */
  private foldConstants(nodes: readonly GraphNode[]): void {
    for (const node of nodes) {
      const present = node.inputs.filter((n) => n);
      const foldable = node.def.foldable !== false && present.every((n) => this.#constants.has(n));
      if (!foldable) {
        this.#steps.push({ node });
        continue;
      }
      const outs = foldNode(node, node.inputs.map((n) => (n ? this.#constants.get(n)! : null)), this.env());
      node.outputs.forEach((name, i) => {
        const t = outs[i];
        if (name && t) this.#constants.set(name, t);
      });
    }
    this.computeLastUse();
  }

  private computeLastUse(): void {
    this.#lastUse = new Map();
    const reads = (s: Step) => (s.replaced ? s.node.inputs.slice(0, 1) : s.node.inputs);
    this.#steps.forEach((s, i) => reads(s).forEach((n) => n && this.#lastUse.set(n, i)));
    this.#used = new Set([...this.#outputs, ...this.#steps.flatMap(reads)]);
    this.planFusion(reads);
  }

  /**
   * A Conv or Gemm whose output is read by one Relu node and nothing else (not a graph output
   * either) computes that Relu in its own kernel (same values and gradients); the Relu node
   * then passes the value on. Replaced nodes take no part.
   */
  private planFusion(reads: (s: Step) => readonly string[]): void {
    // Per value: its first reader and how many reads (only "exactly one" matters).
    const readers = new Map<string, { step: Step; count: number }>();
    for (const s of this.#steps) {
      s.fusedRelu = false;
      s.passThrough = false;
      s.foldsNorm = null;
      for (const name of reads(s)) {
        if (!name) continue;
        const r = readers.get(name);
        if (r) r.count++;
        else readers.set(name, { step: s, count: 1 });
      }
    }
    const graphOutputs = new Set(this.#outputs);
    for (const s of this.#steps) {
      const out = s.node.outputs[0];
      if (s.replaced || !s.node.def.fusesRelu || !out || graphOutputs.has(out)) continue;
      if (s.node.outputs.slice(1).some((o) => o && this.#used.has(o))) continue;
      const r = readers.get(out);
      const relu = r?.count === 1 ? r.step : null;
      if (!relu || relu.replaced || relu.node.opType !== 'Relu' || relu.node.inputs[0] !== out) continue;
      s.fusedRelu = true;
      relu.passThrough = true;
    }
    // Conv -> BatchNormalization (its only reader): when nothing needs a gradient, the
    // convolution applies the normalization in its epilogue (runAll).
    for (const s of this.#steps) {
      const out = s.node.outputs[0];
      if (s.replaced || s.node.opType !== 'Conv' || !out || graphOutputs.has(out) || s.fusedRelu) continue;
      if (s.node.outputs.slice(1).some((o) => o && this.#used.has(o))) continue;
      const r = readers.get(out);
      const bn = r?.count === 1 ? r.step : null;
      if (!bn || bn.replaced || bn.node.opType !== 'BatchNormalization' || bn.node.inputs[0] !== out) continue;
      if (bn.node.outputs.slice(1).some((o) => o && this.#used.has(o))) continue;
      if (this.#opset >= 14 && bn.node.attrs.int('training_mode', 0) === 1) continue;
      s.foldsNorm = bn;
    }
  }

  get inputNames(): string[] {
    return this.#inputs.map((i) => i.name);
  }

  /** The declared sizes of each graph input (null where symbolic, e.g. the batch axis). */
  get inputDims(): ((number | null)[] | undefined)[] {
    return this.#inputs.map((i) => i.dims && [...i.dims]);
  }

  get outputNames(): string[] {
    return [...this.#outputs];
  }

  get opset(): number {
    return this.#opset;
  }

  /** ONNX initializer name -> the state-dict name of its Parameter or buffer. */
  onnxNames(): Map<string, string> {
    return new Map([...this.#state].map(([k, v]) => [k, v.prop]));
  }

  /** The nodes that run in forward(), in order: [name, op type]. */
  nodes(): [string, string][] {
    return this.#steps.map((s) => [s.node.name, s.replaced ? `${s.node.opType} (replaced)` : s.node.opType]);
  }

  /**
   * What its forward fuses for inference (planFusion), in a line: ck.nn.optimizeForInference
   * runs an OnnxModel as it is and shows this (`convkit info --fused`).
   */
  inferencePlan(): string {
    const folds = this.#steps.filter((s) => s.foldsNorm).length;
    const relus = this.#steps.filter((s) => s.fusedRelu).length;
    return `its own graph plan: ${folds} batch norm${folds === 1 ? '' : 's'} folded into convolutions, ${relus} Relu${relus === 1 ? '' : 's'} in the epilogue of the node before; each value freed after its last use`;
  }

  /** Calls `fn` after every node of every forward pass, until the returned function is called. */
  observeNodes(fn: (run: NodeRun) => void): () => void {
    this.#observer = fn;
    return () => {
      if (this.#observer === fn) this.#observer = null;
    };
  }

  override describe(): string {
    const ins = this.#inputs.map((i) => `${i.name} ${i.dims ? fmtShape(i.dims.map((d) => d ?? -1)) : '?'}`).join(', ');
    return `OnnxModel(opset ${this.#opset}, ${this.#steps.length} nodes, inputs ${ins})`;
  }

  private prepareInput(spec: GraphInput, t: Tensor): Tensor {
    if (!(t instanceof Tensor)) throw new ConvkitError(`input '${spec.name}' must be a Tensor, got ${t === null ? 'null' : typeof t}`);
    if (spec.dims) {
      const bad = spec.dims.length !== t.ndim || spec.dims.some((d, i) => i > 0 && d !== null && d !== t.shape[i]);
      if (bad) {
        throw new ConvkitError(
          `input '${spec.name}' must have shape ${fmtShape(spec.dims.map((d) => d ?? -1))} (-1: any size; the batch size may differ), got ${fmtShape(t.shape)}`,
        );
      }
    }
    const wantFloat = spec.elemType === 0 || isFloatType(spec.elemType);
    if (wantFloat && t.dtype === 'int32') return new Tensor(Float32Array.from(t.values()), t.shape);
    if (!wantFloat && t.dtype === 'float32') return new Tensor(Int32Array.from(t.values(), Math.trunc), t.shape);
    return t;
  }

  /** Runs the graph and returns every graph output, in the file's order. */
  runAll(...inputs: Tensor[]): Tensor[] {
    if (inputs.length !== this.#inputs.length) {
      const want = this.#inputs.map((i) => `'${i.name}' ${i.dims ? fmtShape(i.dims.map((d) => d ?? -1)) : ''}`).join(', ');
      throw new ConvkitError(`this ONNX model takes ${this.#inputs.length} input${this.#inputs.length === 1 ? '' : 's'} (${want}), got ${inputs.length}`);
    }
    const values = new Map<string, Tensor>();
    this.#inputs.forEach((spec, i) => values.set(spec.name, this.prepareInput(spec, inputs[i]!)));
    const lookup = (name: string): Tensor | null => {
      if (!name) return null;
      const v = values.get(name) ?? this.#constants.get(name) ?? this.#state.get(name)?.tensor;
      if (!v) throw new ConvkitError(`internal: value '${name}' is not available`);
      return v;
    };
    const env = this.env();
    const keep = new Set(this.#outputs);
    // Batch norms this pass folded into the convolution before them (foldsNorm).
    const folded = new Set<Step>();
    this.#steps.forEach((step, i) => {
      let ins: (Tensor | null)[];
      let outs: (Tensor | null)[];
      const norm = step.foldsNorm;
      const affine = norm && !step.replaced ? foldedNorm(norm.node, step.node.inputs.map(lookup), norm.node.inputs.map((n, k) => (k === 0 ? null : lookup(n)))) : null;
      if (affine && norm) {
        // The convolution computes the batch norm's output (and its fused Relu's) directly;
        // the batch norm node then passes it on.
        ins = step.node.inputs.map(lookup);
        outs = runNode(step.node, ins, env, norm.fusedRelu ? 'relu' : 'none', affine);
        folded.add(norm);
      } else if (folded.has(step)) {
        // Reported with all its inputs (the summary counts the batch norm's parameters here).
        ins = step.node.inputs.map(lookup);
        outs = ins.slice(0, 1);
      } else if (step.replaced) {
        // A replacement reads only the node's first input; its other inputs may be gone.
        const x = lookup(step.node.inputs[0] ?? '');
        if (!x) throw new ConvkitError(`${step.node.where}: the replacement needs the node's first input`);
        ins = [x];
        outs = [step.module ? step.module.forward(x) : x];
      } else if (step.passThrough) {
        // The node before computed this Relu in its kernel (planFusion).
        ins = [lookup(step.node.inputs[0]!)];
        outs = ins;
      } else {
        ins = step.node.inputs.map(lookup);
        outs = runNode(step.node, ins, env, step.fusedRelu ? 'relu' : 'none');
      }
      const how = step.replaced ? 'replaced' : step.passThrough || folded.has(step) ? 'fused' : 'node';
      this.#observer?.({ node: step.node, inputs: ins, outputs: outs, how, module: step.module ?? null });
      step.node.outputs.forEach((name, k) => {
        const t = outs[k];
        if (name && t) values.set(name, t);
      });
      // Drop what no later node reads, so the garbage collector can take it.
      for (const name of step.node.inputs) if (this.#lastUse.get(name) === i && !keep.has(name)) values.delete(name);
    });
    return this.#outputs.map(lookup) as Tensor[];
  }

  /** The first graph output (models with several outputs: use runAll). */
  forward(...inputs: Tensor[]): Tensor {
    return this.runAll(...inputs)[0]!;
  }

  /**
   * Replaces a node (by node name or by the name of one of its outputs) with a convkit layer
   * applied to the node's first input, or removes it (null: its first input passes through).
   * Typical fine-tuning: replace the last Gemm with a new Linear sized for your classes.
   * Initializers only that node read are dropped from the parameters.
   */
  replaceNode(nameOrOutput: string, layer: Module | null): this {
    const step = this.#steps.find((s) => s.node.name === nameOrOutput) ?? this.#steps.find((s) => s.node.outputs.includes(nameOrOutput));
    if (!step) {
      const names = this.#steps.map((s) => s.node.name);
      throw new ConvkitError(
        `replaceNode: no node named '${nameOrOutput}' runs in this model (constant parts are folded at load time); ` +
          `nodes: ${names.slice(-10).join(', ')}${names.length > 10 ? ` and ${names.length - 10} more` : ''}`,
      );
    }
    if (layer !== null && !(layer instanceof Module)) throw new ConvkitError('replaceNode: the replacement must be a convkit Module or null');
    const extra = step.node.outputs.slice(1).filter((o) => o && this.#used.has(o));
    if (extra.length) throw new ConvkitError(`replaceNode: ${step.node.where} has other outputs in use (${extra.join(', ')}); a layer gives one output`);
    step.replaced = true;
    step.module = layer;
    if (layer) {
      const prop = this.uniqueName(step.node.name, new Set(this.namedChildren().map(([n]) => n)));
      Object.defineProperty(this, prop, { value: layer, enumerable: true, writable: true, configurable: true });
    }
    this.computeLastUse();
    // Weights that no remaining node reads stop being parameters (and stop being saved).
    // Buffers (running statistics) stay: Module offers no way to unregister one.
    const stillRead = new Set(this.#steps.filter((s) => !s.replaced).flatMap((s) => s.node.inputs));
    for (const [name, entry] of this.#state) {
      if (stillRead.has(name) || entry.buffer) continue;
      delete (this as unknown as Record<string, unknown>)[entry.prop];
      this.#state.delete(name);
    }
    return this;
  }

  override getConfig(): ModuleConfig {
    const bytes = encodeModel(this.#proto);
    // Replacements in graph order, each as its layer's own config (null: removed).
    const replacements = this.#steps.filter((s) => s.replaced).map((s) => [s.node.name, s.module ? s.module.getConfig() : null]);
    return { type: 'OnnxModel', args: [toBase64(bytes), replacements, { maxTensorElements: this.#maxElements }] };
  }

  /** Rebuilds an imported ONNX model from its saved config (the ONNX bytes it was loaded from). */
  static fromConfig(args: unknown[]): OnnxModel {
    if (!OnnxModel.rebuildImpl) throw new ConvkitError('OnnxModel: the ONNX loader is not installed; import convkit, not its onnx-model module alone');
    return OnnxModel.rebuildImpl(args);
  }
}

/** Weights are saved in the state dict; the graph kept for getConfig points there instead. */
function stripInitializer(p: TensorProto): void {
  p.raw_data = new Uint8Array(0);
  p.float_data = [];
  p.double_data = [];
  p.int32_data = [];
  p.data_location = 1;
  p.external_data = [{ key: 'location', value: STATE_LOCATION }];
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * The per-channel scale and shift that fold a BatchNormalization (inference mode) into the
 * Conv before it (foldBatchNorm). Null when the fold does not apply: a gradient is needed (fine-tuning), the statistics are
 * missing, or a vector does not have one value per output channel.
 */
function foldedNorm(bn: GraphNode, convIns: readonly (Tensor | null)[], bnIns: readonly (Tensor | null)[]): { scale: Tensor; shift: Tensor } | null {
  const w = convIns[1];
  if (!w || w.ndim < 3 || needsGrad(...convIns, ...bnIns)) return null;
  const k = w.shape[0]!;
  const vec = (t: Tensor | null | undefined): Float32Array | null => (t && t.size === k && t.dtype === 'float32' ? (t.contiguous().values() as Float32Array) : null);
  const gamma = vec(bnIns[1]), beta = vec(bnIns[2]), mean = vec(bnIns[3]), variance = vec(bnIns[4]);
  const bias = convIns[2] ? vec(convIns[2]) : null;
  if (!gamma || !beta || !mean || !variance || (convIns[2] && !bias)) return null;
  return foldBatchNorm({ mean, variance, weight: gamma, bias: beta, eps: bn.attrs.float('epsilon', 1e-5) }, bias, k);
}
