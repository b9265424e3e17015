import { isGraphTraceable, type GraphOps } from '../nn/graph-trace.js';
import type { Module, ModuleConfig } from '../nn/module.js';
import { fromConfig } from '../nn/registry.js';
import { Sequential } from '../nn/sequential.js';
import { noGrad } from '../autograd/tape.js';
import { zeros } from '../tensor/creation.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { tidy } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { OnnxModel, type NodeRun } from '../io/onnx/onnx-model.js';
import { configFacts, moduleFacts, NoStaticShape, type LayerKind, type LeafFacts, type Window } from './layer-facts.js';
import { isBiasInput, onnxNodeFacts, type ObservedNode } from './onnx-node-facts.js';

/**
 * Walks a model on shapes instead of tensors and lists its layers in execution order, each
 * with its output shape, parameters, multiply-adds and receptive field. Sequentials are
 * walked in order, graph modules (residual blocks, Inception) through their `traceGraph`
 * description, layers through their hyperparameters (layer-facts.ts), an imported ONNX graph
 * node by node (one forward pass on zeros; onnx-node-facts.ts). A model can be given
 * built (a Module) or as its description (`getConfig()` JSON), in which case the expensive
 * layers (Conv2d, Linear) are never built.
 *
 * Receptive field: the side, in input pixels, of the region one output unit depends on, with
 * r_out = r_in + D*(F-1)*j_in and j_out = j_in*S (j: the distance in input pixels between
 * neighbouring units, i.e. the product of the strides so far).
 */

export interface TracedLayer {
  /** Dotted path of the module (`features.3`, `layer1.0.conv1`); `<block>.add` for a residual sum. */
  path: string;
  /** Class name, or 'Add' / 'Concat' for graph operations. */
  type: string;
  kind: LayerKind;
  label: string;
  /** Per-item input and output shapes ([C, H, W] or [F]). */
  input: number[];
  output: number[];
  weights: number;
  biases: number;
  macs: number;
  window: Window | null;
  /** [height, width] of the receptive field of one output unit; null when unknown. */
  receptiveField: [number, number] | null;
  /** Distance between neighbouring output units in input pixels (the total stride so far). */
  jump: [number, number];
  inPlace: boolean;
}

/** What flows through the trace in place of a tensor. */
interface Sym {
  shape: number[];
  rf: [number, number] | null;
  jump: [number, number];
  /** For a vector flattened from a volume: the volume's [H, W], so that an FC sees all of it. */
  flatFrom: [number, number] | null;
}

const joinPath = (prefix: string, name: string): string => (prefix ? `${prefix}.${name}` : name);

class Tracer {
  readonly layers: TracedLayer[] = [];
  private opCounts = new Map<string, number>();

  /** A built module at `path`. */
  module(m: Module, path: string, x: Sym): Sym {
    if (m instanceof Sequential) {
      for (const [name, child] of m.namedChildren()) x = this.module(child, joinPath(path, name), x);
      return x;
    }
    if (isGraphTraceable(m)) return m.traceGraph(x, this.graphOps(m, path));
    if (m instanceof OnnxModel) return this.onnx(m, path, x);
    if (m.namedChildren().length > 0) return this.probe(m, path, x);
    let facts: LeafFacts;
    try {
      facts = moduleFacts(m, x.shape);
    } catch (e) {
      if (e instanceof NoStaticShape) return this.probe(m, path, x);
      throw located(e, path, m.typeName);
    }
    return this.emit(path, m.typeName, facts, x);
  }

  /** A layer description at `path`: Sequential and the expensive layers without building. */
  config(c: ModuleConfig, path: string, x: Sym): Sym {
    if (c?.type === 'Sequential' && Array.isArray(c.args)) {
      c.args.forEach((child, i) => (x = this.config(child as ModuleConfig, joinPath(path, String(i)), x)));
      return x;
    }
    let facts: LeafFacts | null;
    try {
      facts = configFacts(c, x.shape);
    } catch (e) {
      throw located(e, path, c.type);
    }
    if (facts) return this.emit(path, c.type, facts, x);
    return this.module(fromConfig(c), path, x);
  }

  private graphOps(parent: Module, path: string): GraphOps<Sym> {
    const names = new Map<Module, string>();
    for (const [name, child] of parent.namedModules()) if (name) names.set(child, name);
    return {
      call: (child, x) => {
        const name = names.get(child);
        if (name === undefined) throw new ConvkitError(`${path || 'model'} (${parent.typeName}): traceGraph called a module that is not one of its children (${child.typeName})`);
        return this.module(child, joinPath(path, name), x);
      },
      add: (a, b) => {
        if (a.shape.join() !== b.shape.join()) {
          throw new ConvkitError(`${path || 'model'} (${parent.typeName}): a residual sum needs equal shapes, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
        }
        const facts: LeafFacts = { kind: 'add', label: 'ADD', output: [...a.shape], weights: 0, biases: 0, macs: 0, window: null, keepsField: true, inPlace: false };
        return this.emit(this.opPath(path, 'add'), 'Add', facts, merge([a, b]));
      },
      cat: (xs) => {
        const first = xs[0];
        if (!first || xs.some((v) => v.shape.length !== first.shape.length || v.shape.slice(1).join() !== first.shape.slice(1).join())) {
          throw new ConvkitError(
            `${path || 'model'} (${parent.typeName}): concatenation along the channels needs equal sizes otherwise, got ${xs.map((v) => fmtShape(v.shape)).join(', ')}`,
          );
        }
        const output = [xs.reduce((s, v) => s + v.shape[0]!, 0), ...first.shape.slice(1)];
        const facts: LeafFacts = { kind: 'concat', label: 'CONCAT', output, weights: 0, biases: 0, macs: 0, window: null, keepsField: true, inPlace: false };
        return this.emit(this.opPath(path, 'cat'), 'Concat', facts, merge(xs));
      },
    };
  }

  private opPath(path: string, op: string): string {
    const key = joinPath(path, op);
    const n = this.opCounts.get(key) ?? 0;
    this.opCounts.set(key, n + 1);
    return n === 0 ? key : `${key}${n}`;
  }

  /**
   * An imported ONNX graph: one forward pass on zeros with a per-node observer, then a row per
   * node in execution order. Receptive fields follow the graph's edges; each trainable
   * initializer counts at the first node that reads it; replaced nodes trace their layer.
   */
  private onnx(m: OnnxModel, path: string, x: Sym): Sym {
    const trainable = new Set<Tensor>(m.parameters());
    const runs: { run: Omit<NodeRun, 'inputs' | 'outputs'>; inputs: ({ shape: number[]; param: Tensor | null } | null)[]; outputs: (number[] | null)[] }[] = [];
    const stop = m.observeNodes((r) =>
      runs.push({
        run: { node: r.node, how: r.how, module: r.module },
        inputs: r.inputs.map((t) => t && { shape: [...t.shape], param: trainable.has(t) ? t : null }),
        outputs: r.outputs.map((t) => t && [...t.shape]),
      }),
    );
    let outShape: number[];
    try {
      outShape = runOnce(m, x, (y) => y.shape.slice(1));
    } finally {
      stop();
    }
    const syms = new Map<string, Sym>([[m.inputNames[0] ?? '', x]]);
    const counted = new Set<Tensor>();
    const children = new Map(m.namedChildren().map(([name, child]) => [child, name] as const));
    for (const { run, inputs, outputs } of runs) {
      const { node } = run;
      // For a replacement only the first input was passed on.
      const names = run.how === 'node' ? node.inputs : node.inputs.slice(0, 1);
      const flowing = names.map((name) => syms.get(name)).filter((v): v is Sym => !!v);
      const first = inputs.findIndex((v, i) => v && syms.has(names[i] ?? ''));
      const shape = first >= 0 ? inputs[first]!.shape.slice(1) : [];
      const xIn: Sym = { ...(flowing.length > 1 ? merge(flowing) : (flowing[0] ?? { ...x, rf: null })), shape };
      const nodePath = joinPath(path, node.name);
      let out: Sym;
      if (run.how === 'replaced' && run.module) {
        out = this.module(run.module, joinPath(path, children.get(run.module) ?? node.name), xIn);
      } else {
        const owned = { weights: 0, biases: 0 };
        inputs.forEach((v, i) => {
          if (!v?.param || counted.has(v.param)) return;
          counted.add(v.param);
          owned[isBiasInput(node.opType, i) ? 'biases' : 'weights'] += v.param.size;
        });
        const observed: ObservedNode = {
          node,
          inputs: inputs.map((v, i) => v && (syms.has(names[i] ?? '') ? { shape: v.shape.slice(1), batched: true } : { shape: v.shape, batched: false })),
          outputs: outputs.map((s) => s && { shape: s.slice(1), batched: true }),
        };
        // A node removed with replaceNode(name, null) passes its first input on.
        const opType = run.how === 'replaced' ? 'Identity' : node.opType;
        let f: LeafFacts;
        try {
          f = onnxNodeFacts(run.how === 'replaced' ? { ...observed, node: { ...node, opType } } : observed, owned);
        } catch (e) {
          throw located(e, nodePath, node.opType);
        }
        out = this.emit(nodePath, opType, f, xIn);
      }
      node.outputs.forEach((name, k) => {
        const s = outputs[k];
        if (name && s) syms.set(name, k === 0 ? { ...out, shape: s.slice(1) } : { ...out, shape: s.slice(1), rf: null });
      });
    }
    const y = syms.get(m.outputNames[0] ?? '');
    return y ? { ...y, shape: outShape } : { shape: outShape, rf: null, jump: x.jump, flatFrom: null };
  }

  private emit(path: string, type: string, f: LeafFacts, x: Sym): Sym {
    let rf = x.rf;
    let jump = x.jump;
    let flatFrom = x.flatFrom;
    if (f.kind === 'fc') {
      // An FC on a flattened volume sees every position of it: a window as large as the volume.
      if (rf && flatFrom) rf = [rf[0] + (flatFrom[0] - 1) * jump[0], rf[1] + (flatFrom[1] - 1) * jump[1]];
      flatFrom = [1, 1];
    } else if (f.kind === 'flatten') {
      flatFrom = x.shape.length === 3 ? [x.shape[1]!, x.shape[2]!] : flatFrom;
    } else if (f.window) {
      const w = f.window;
      if (rf) rf = [0, 1].map((i) => rf![i]! + w.dilation[i]! * (w.kernel[i]! - 1) * jump[i]!) as [number, number];
      jump = [jump[0] * w.stride[0], jump[1] * w.stride[1]];
    } else if (!f.keepsField) {
      rf = null;
    }
    this.layers.push({
      path,
      type,
      kind: f.kind,
      label: f.label,
      input: [...x.shape],
      output: [...f.output],
      weights: f.weights,
      biases: f.biases,
      macs: f.macs,
      window: f.window,
      receptiveField: rf ? [rf[0], rf[1]] : null,
      jump: [jump[0], jump[1]],
      inPlace: f.inPlace,
    });
    return { shape: [...f.output], rf, jump, flatFrom };
  }

  /**
   * The last resort for a module that describes neither its shape nor its dataflow: run it
   * once on zeros (one item) and record its layers' shapes with forward hooks. The receptive
   * field is unknown from there on.
   */
  private probe(m: Module, path: string, x: Sym): Sym {
    const named = m.namedModules(path);
    const leaves = named.filter(([, mod]) => mod.namedChildren().length === 0);
    const seen: { path: string; module: Module; input: number[]; output: number[] }[] = [];
    const handles = leaves.map(([p, leaf]) =>
      leaf.registerForwardHook((mod, inputs, output) => {
        const inp = inputs[0];
        if (inp instanceof Tensor && output instanceof Tensor) seen.push({ path: p, module: mod, input: inp.shape.slice(1), output: output.shape.slice(1) });
      }),
    );
    let outShape: number[];
    // Inference mode for the probe (batch norm on one item).
    try {
      outShape = runOnce(m, x, (y) => y.shape.slice(1));
    } finally {
      handles.forEach((h) => h.remove());
    }
    let sym: Sym = { ...x, rf: null };
    for (const s of seen) {
      let facts: LeafFacts;
      try {
        facts = moduleFacts(s.module, s.input);
      } catch {
        facts = { kind: 'other', label: s.module.typeName.toUpperCase(), output: s.output, weights: 0, biases: 0, macs: 0, window: null, keepsField: false, inPlace: false };
      }
      sym = this.emit(s.path, s.module.typeName, { ...facts, output: s.output, keepsField: false, window: null }, { ...sym, shape: s.input, rf: null });
    }
    return { shape: outShape, rf: null, jump: sym.jump, flatFrom: null };
  }
}

/** Inference mode while `fn` runs one item through `m`, then the caller's modes back. */
function runOnce<T>(m: Module, x: Sym, fn: (y: Tensor) => T): T {
  const modes = m.modules().map((mod) => [mod, mod.training] as const);
  try {
    return noGrad(() => tidy(() => fn(m.eval().forward(zeros([1, ...x.shape])))));
  } finally {
    for (const [mod, training] of modes) mod.training = training;
  }
}

function merge(xs: readonly Sym[]): Sym {
  const rfs = xs.map((v) => v.rf);
  const rf = rfs.every((r) => r !== null) ? ([Math.max(...rfs.map((r) => r![0])), Math.max(...rfs.map((r) => r![1]))] as [number, number]) : null;
  return {
    shape: [...xs[0]!.shape],
    rf,
    jump: [Math.max(...xs.map((v) => v.jump[0])), Math.max(...xs.map((v) => v.jump[1]))],
    flatFrom: xs[0]!.flatFrom,
  };
}

function located(e: unknown, path: string, type: string): unknown {
  if (e instanceof ConvkitError) {
    e.message = `${path || 'model'} (${type}): ${e.message.replace(new RegExp(`^${type}: `), '')}`;
  }
  return e;
}

function checkInput(inputShape: readonly number[]): Sym {
  if (!Array.isArray(inputShape) || inputShape.length === 0 || inputShape.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new ConvkitError(`the input must be a per-item shape such as [3, 224, 224] (C, H, W), got ${JSON.stringify(inputShape)}`);
  }
  return { shape: [...inputShape], rf: [1, 1], jump: [1, 1], flatFrom: null };
}

/** The layers of a built model on an input of per-item shape [C, H, W] (or [F]). */
export function traceModule(model: Module, inputShape: readonly number[]): TracedLayer[] {
  const t = new Tracer();
  t.module(model, '', checkInput(inputShape));
  return t.layers;
}

/** The layers of a described model (`getConfig()` JSON); Conv2d and Linear are not built. */
export function traceConfig(config: ModuleConfig, inputShape: readonly number[]): TracedLayer[] {
  const t = new Tracer();
  t.config(config, '', checkInput(inputShape));
  return t.layers;
}
