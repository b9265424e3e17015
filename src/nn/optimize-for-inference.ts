import { needsGrad, noGrad } from '../autograd/tape.js';
import { add } from '../ops/binary.js';
import { cat } from '../ops/concat.js';
import { ConvkitError } from '../tensor/errors.js';
import { isKept } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { isAffineFusable, isFoldableNorm, isPlainRelu, isReluFusable, isReluLayer, type AffineFusable, type FoldableNorm, type ReluFusable } from './fusion.js';
import { isGraphTraceable, type GraphOps, type GraphTraceable } from './graph-trace.js';
import { Module, type ModuleConfig } from './module.js';
import { Parameter } from './parameter.js';
import { Sequential } from './sequential.js';

/**
 * `ck.nn.optimizeForInference(model)`: the model as it runs for inference, as a module whose
 * structure says what runs. A model's own forward runs each layer as its class says (an
 * nn.Sequential and the zoo's graph modules put a following plain ReLU into the layer's or the
 * sum's kernel, which changes no value and no gradient); it neither folds batch norms, which
 * rounds differently, nor frees activations, which only inference may. This pass builds, once, a
 * plan from the model's structure:
 *
 * - Conv2d -> eval BatchNorm (-> ReLU): one convolution, the batch norm its per-channel scale
 *   and shift, the ReLU its epilogue (FusedLayers 'conv+bn').
 * - Conv2d, Linear or eval BatchNorm -> ReLU: the ReLU in the layer's epilogue ('relu').
 * - A graph module's residual sum followed by its ReLU: one add with the ReLU.
 * - Sequentials and graph chains free each activation once the next step has run, so VGG-16
 *   at batch 1 needs its weights plus about its two largest activations.
 *
 * The result shares the model's parameters and buffers (its stateDict is the model's) and
 * computes each fold from them at every call, so it follows weight updates and loads. Its
 * output equals the model's up to float32 rounding of the folded scale. Its forward records no
 * gradients and train() on it throws: train the model it was made from.
 *
 * Forward hooks: the plan is structural; what may fuse is decided at each call. A step whose
 * layers carry a forward hook (or a replaced forward) runs those layers as the plain model
 * does, and a Sequential or graph module that is itself hooked runs its plain forward, so
 * every hook registered on the plain model sees every layer, input and output, before or after
 * the pass. While any hook watches a part of the model, that part frees nothing.
 *
 * Other modules (custom classes, an imported OnnxModel with its own graph plan) run as their
 * class says; write a custom network as a Sequential or a graph module to have it planned.
 */
export function optimizeForInference(model: Module): InferenceModule {
  if (!(model instanceof Module)) throw new ConvkitError(`optimizeForInference: expected a Module, got ${model === null ? 'null' : typeof model}`);
  if (model instanceof InferenceModule) return model;
  model.eval();
  model.namedModules(); // every layer learns its path now: a fused step's errors name its layers as the model does
  const m = optimizeModule(model);
  return m instanceof InferenceModule ? m : new InferenceLeaf(model);
}

const graphForwards = new Set<unknown>();

/**
 * Declares `forward` as "run traceGraph on tensors, each child's forward in turn"
 * (models/graph-module.ts): a graph module whose class forward is that one is planned from its
 * traceGraph.
 */
export function declareGraphForward(forward: (x: Tensor) => Tensor): void {
  graphForwards.add(forward);
}

function classForward(m: Module): unknown {
  return (Object.getPrototypeOf(m) as { forward?: unknown }).forward;
}

function optimizeModule(m: Module): Module {
  if (m instanceof InferenceModule) return m;
  if (m instanceof Sequential && classForward(m) === Sequential.prototype.forward) return new InferenceSequential(m);
  if (isGraphTraceable(m) && graphForwards.has(classForward(m))) return new InferenceGraph(m);
  return m;
}

/** Base of the modules the pass builds: eval only, no gradients, the source model's state. */
export abstract class InferenceModule extends Module {
  /** The plain module this one runs for. */
  declare readonly source: Module;
  /** Its children in order, by the plain names they cover (see defineChildren). */
  declare protected readonly steps: readonly [string, Module][];

  constructor(source: Module) {
    super();
    Object.defineProperty(this, 'source', { value: source, enumerable: false });
    this.training = false;
  }

  override namedChildren(): [string, Module][] {
    return [...(this.steps ?? [])];
  }

  /** The source's name, so that errors read as the plain model's (`model (Sequential): ...`). */
  override get typeName(): string {
    return this.source.typeName;
  }

  override train(mode = true): this {
    if (mode) {
      throw new ConvkitError(
        `a ${this.typeName} optimized for inference does not train: train the model it was made from (this module shares its parameters and follows them)`,
      );
    }
    return super.train(false);
  }

  /** The source model's parameters, by the source's names (stateDict and loadStateDict follow). */
  override namedParameters(): [string, Parameter][] {
    return this.source.namedParameters();
  }

  override namedBuffers(): [string, Tensor][] {
    return this.source.namedBuffers();
  }

  override getConfig(): ModuleConfig {
    throw new ConvkitError(`a ${this.typeName} optimized for inference is not saved: save the model it was made from`);
  }

  /**
   * Whether this call may free activations between steps: nothing watches any module of the
   * plain model or of the plan below here (a hook may hold on to what it saw).
   */
  protected freesNow(): boolean {
    if (Module.forwardHooks === 0) return true;
    return !this.source.modules().some((m) => m.watched) && !this.modules().some((m) => m !== this && m.watched);
  }
}

/**
 * A custom module (or an imported OnnxModel, which fuses and frees by its own graph plan) at
 * the root: run as its class says, without gradients.
 */
export class InferenceLeaf extends InferenceModule {
  forward(...inputs: Tensor[]): Tensor {
    return noGrad(() => this.source.forward(...inputs));
  }

  /** A module that plans itself (an imported OnnxModel: `inferencePlan()`) says so; others run as written. */
  override describe(): string {
    const own = (this.source as { inferencePlan?: () => string }).inferencePlan;
    return `${this.source.describe()} [${typeof own === 'function' ? own.call(this.source) : 'runs as its class says: not planned'}]`;
  }
}

/**
 * Two or three layers run as one kernel call: 'conv+bn' (Conv2d -> eval BatchNorm, then maybe a
 * ReLU) or 'relu' (Conv2d, Linear or eval BatchNorm -> ReLU). At each call it checks that the
 * fusion is still exact and unobserved (eval mode, no hooks, no gradient needed), else runs the
 * layers one by one as the plain model does.
 */
export class FusedLayers extends Module {
  declare readonly kind: 'conv+bn' | 'relu';
  /** The plain layers it covers, in order. */
  declare readonly layers: readonly Module[];

  constructor(kind: 'conv+bn' | 'relu', layers: readonly Module[]) {
    super();
    Object.defineProperty(this, 'kind', { value: kind, enumerable: false });
    Object.defineProperty(this, 'layers', { value: layers, enumerable: false });
    this.training = false;
  }

  override get typeName(): string {
    return 'FusedLayers';
  }

  forward(x: Tensor): Tensor {
    const [first, second, third] = this.layers;
    if (this.kind === 'conv+bn') {
      const conv = first as Module & AffineFusable, norm = second as Module & FoldableNorm;
      const withRelu = third !== undefined;
      if (conv.canFuseRelu() && norm.canFold() && (!withRelu || isPlainRelu(third)) && !needsGrad(x, ...conv.parameters(), norm.weight, norm.bias)) {
        const { scale, shift } = norm.foldedAffine(conv.bias);
        return conv.forwardScaled(x, scale, shift, withRelu ? 'relu' : 'none');
      }
    } else {
      const layer = first as Module & ReluFusable;
      if (layer.canFuseRelu() && isPlainRelu(second)) return layer.forwardFused(x, 'relu');
    }
    let h = x;
    for (const l of this.layers) h = l.forward(h);
    return h;
  }

  override describe(): string {
    const what = this.kind === 'conv+bn'
      ? `batch norm folded into the convolution${this.layers.length > 2 ? ', ReLU in its epilogue' : ''}`
      : 'ReLU in the epilogue';
    return `${this.layers.map((l) => l.describe()).join(' + ')} [${what}]`;
  }
}

/**
 * The steps of a chain of layers: conv -> bn (-> relu) and layer -> relu fused where the
 * classes allow (whether they may at a given call is the step's business), other layers
 * optimized themselves. Keys name the plain layers each step covers: `0+1+2`, `conv1+bn1+relu`.
 */
function planChain(layers: readonly [string, Module][]): [string, Module][] {
  const steps: [string, Module][] = [];
  for (let i = 0; i < layers.length; i++) {
    const [name, layer] = layers[i]!;
    const next = layers[i + 1]?.[1], after = layers[i + 2]?.[1];
    if (isAffineFusable(layer) && isFoldableNorm(next) && next.numFeatures === layer.outChannels) {
      const group = isReluLayer(after) ? layers.slice(i, i + 3) : layers.slice(i, i + 2);
      steps.push([group.map(([n]) => n).join('+'), new FusedLayers('conv+bn', group.map(([, l]) => l))]);
      i += group.length - 1;
    } else if (isReluFusable(layer) && isReluLayer(next)) {
      steps.push([`${name}+${layers[i + 1]![0]}`, new FusedLayers('relu', [layer, next])]);
      i++;
    } else {
      steps.push([name, optimizeModule(layer)]);
    }
  }
  return steps;
}

/** Runs steps in turn, freeing each activation once the next step has run (when `free`). */
function runSteps(steps: readonly Module[], x: Tensor, free: boolean): Tensor {
  let h = x;
  for (const step of steps) {
    const prev = h;
    h = step.forward(h);
    // Nothing can read `prev` any more: no gradient is recorded (noGrad), no hook watches, and
    // it is neither the caller's input nor the storage of the input or the output (views), nor
    // kept. A custom layer that stashes its input finds it disposed, as after a tidy() scope.
    if (free && prev !== x && prev.storage !== x.storage && prev.storage !== h.storage && !isKept(prev)) prev.dispose();
  }
  return h;
}

/**
 * Gives a plan module its steps as children, in order: own properties alone would not keep it,
 * since JavaScript lists integer keys ('3', '10') before the others ('0+1+2').
 */
function defineChildren(m: InferenceModule, children: readonly [string, Module][]): void {
  const list: [string, Module][] = [];
  for (const [key, child] of children) {
    if (Object.prototype.hasOwnProperty.call(m, key)) continue;
    Object.defineProperty(m, key, { value: child, enumerable: false, writable: true });
    list.push([key, child]);
  }
  Object.defineProperty(m, 'steps', { value: list, enumerable: false });
}

/** An nn.Sequential's plan: its layers as steps (`features.0+1+2`, `features.3`, ...). */
export class InferenceSequential extends InferenceModule {
  constructor(source: Sequential) {
    super(source);
    defineChildren(this, planChain(source.namedChildren()));
  }

  forward(x: Tensor): Tensor {
    if (this.source.watched) return noGrad(() => this.source.forward(x));
    return noGrad(() => runSteps(this.children(), x, this.freesNow()));
  }

  override describe(): string {
    return `${this.source.describe()} [frees each activation once the next step has run]`;
  }
}

interface ChainPlan {
  layers: readonly Module[];
  steps: readonly Module[];
}

/**
 * A graph module's plan (a residual block, an Inception module, ResNet): its traceGraph run on
 * tensors with chains as planned steps, each child optimized, and a residual sum followed by
 * a plain ReLU as one add.
 */
export class InferenceGraph extends InferenceModule {
  declare private readonly calls: Map<Module, Module>;
  declare private readonly chains: Map<Module, ChainPlan[]>;
  /** Residual sums whose ReLU runs in the add. */
  declare readonly fusedSums: number;

  constructor(source: Module & GraphTraceable) {
    super(source);
    const names = new Map(source.namedChildren().map(([n, c]) => [c, n] as const));
    const nameOf = (c: Module): string => names.get(c) ?? c.typeName;
    const calls = new Map<Module, Module>(), chains = new Map<Module, ChainPlan[]>();
    const shown: [string, Module][] = [];
    let fusedSums = 0;
    // The structure comes from running the description once on placeholders (no tensors).
    const planner: GraphOps<null> = {
      call: (child) => {
        if (!calls.has(child)) {
          const o = optimizeModule(child);
          calls.set(child, o);
          shown.push([nameOf(child), o]);
        }
        return null;
      },
      chain: (children) => {
        const first = children[0];
        if (first && !this.planned(chains, children)) {
          const steps = planChain(children.map((c) => [nameOf(c), c] as [string, Module]));
          chains.set(first, [...(chains.get(first) ?? []), { layers: [...children], steps: steps.map(([, s]) => s) }]);
          shown.push(...steps);
        }
        return null;
      },
      add: () => null,
      addThen: (_a, _b, after) => {
        if (isReluLayer(after)) fusedSums++;
        else planner.call(after, null);
        return null;
      },
      cat: () => null,
    };
    source.traceGraph(null, planner);
    Object.defineProperty(this, 'calls', { value: calls, enumerable: false });
    Object.defineProperty(this, 'chains', { value: chains, enumerable: false });
    Object.defineProperty(this, 'fusedSums', { value: fusedSums, enumerable: false });
    defineChildren(this, shown);
  }

  private planned(chains: Map<Module, ChainPlan[]>, children: readonly Module[]): readonly Module[] | undefined {
    const plans = chains.get(children[0]!);
    const p = plans?.find((c) => c.layers.length === children.length && c.layers.every((l, i) => l === children[i]));
    return p?.steps;
  }

  forward(x: Tensor): Tensor {
    const source = this.source as Module & GraphTraceable;
    if (source.watched) return noGrad(() => source.forward(x));
    const free = this.freesNow();
    const ops: GraphOps<Tensor> = {
      call: (child, v) => (this.calls.get(child) ?? child).forward(v),
      // A chain the plan has not seen (a data-dependent description) runs its layers in turn.
      chain: (children, v) => runSteps(this.planned(this.chains, children) ?? children, v, free),
      add: (a, b) => add(a, b),
      addThen: (a, b, after) => (isPlainRelu(after) ? add(a, b, { activation: 'relu' }) : after.forward(add(a, b))),
      cat: (xs) => cat(xs, 1),
    };
    return noGrad(() => source.traceGraph(x, ops));
  }

  override describe(): string {
    const notes = [this.fusedSums ? `residual add + ReLU fused${this.fusedSums > 1 ? ` (${this.fusedSums})` : ''}` : '', 'frees activations between chained steps'];
    return `${this.source.describe()} [${notes.filter(Boolean).join('; ')}]`;
  }
}
