import { ConvkitError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { runReluChain } from './fusion.js';
import { Module, type ModuleConfig } from './module.js';
import { fromConfig, register } from './registry.js';

/** Runs its children one after another; they are named '0', '1', ... as in PyTorch. */
export class Sequential extends Module {
  constructor(...layers: Module[]) {
    super();
    layers.forEach((layer, i) => {
      if (!(layer instanceof Module)) throw new ConvkitError(`Sequential: argument ${i} is not a Module`);
      Object.defineProperty(this, String(i), { value: layer, enumerable: true, writable: true });
    });
  }

  get length(): number {
    return this.children().length;
  }

  /** The layer at `index` (negative counts from the end); throws when out of range. */
  at(index: number): Module {
    const m = this.children()[index < 0 ? this.length + index : index];
    if (!m) throw new ConvkitError(`Sequential has ${this.length} layers; index ${index} is out of range`);
    return m;
  }

  /** Adds a layer at the end. */
  append(layer: Module): this {
    Object.defineProperty(this, String(this.length), { value: layer, enumerable: true, writable: true });
    return this;
  }

  /**
   * Each child's forward in turn; a Conv2d, Linear or eval-mode BatchNorm followed by a plain
   * nn.ReLU runs as one kernel call with the ReLU in its epilogue (the same values and
   * gradients), unless a hook watches either (nn/fusion.ts, runReluChain). Nothing else: for
   * inference, ck.nn.optimizeForInference(model) also folds batch norms and frees activations,
   * visibly (nn/optimize-for-inference.ts).
   */
  forward(x: Tensor): Tensor {
    return runReluChain(this.children(), x);
  }

  override getConfig(): ModuleConfig {
    return { type: 'Sequential', args: this.children().map((c) => c.getConfig()) };
  }

  /** Builds a Sequential from its layers' configs. */
  static fromConfig(args: unknown[]): Sequential {
    return new Sequential(...args.map((a) => fromConfig(a as ModuleConfig)));
  }
}

register('Sequential', Sequential);
