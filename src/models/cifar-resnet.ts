import { callChain, type GraphOps } from '../nn/graph-trace.js';
import { AdaptiveAvgPool2d } from '../nn/adaptive-avg-pool2d.js';
import { BatchNorm2d } from '../nn/batch-norm.js';
import { Conv2d } from '../nn/conv2d.js';
import { Flatten } from '../nn/flatten.js';
import { Linear } from '../nn/linear.js';
import { register } from '../nn/registry.js';
import { ReLU } from '../nn/relu.js';
import { Sequential } from '../nn/sequential.js';
import { ConvkitError } from '../tensor/errors.js';
import { GraphModule } from './graph-module.js';
import { resolveZooOptions, type ZooOptions } from './options.js';
import { ZeroPadShortcut } from './zero-pad-shortcut.js';
import { addStages, TwoConvBlock } from './resnet.js';
import type { Module } from '../nn/module.js';

/**
 * The ResNets for CIFAR-10 of He et al. 2016, section 4.2: CONV3-16 -> BN -> RELU, three
 * stages of n basic blocks at 16, 32 and 64 filters (the first block of stages 2 and 3 halves
 * the size with stride 2), global average pooling, FC. 6n + 2 weighted layers: ResNet-20, -32,
 * -56 for n = 3, 5, 9. The shortcuts are the paper's option A: the identity, or where the
 * shape changes the subsampled input padded with zero channels (ZeroPadShortcut), so every
 * parameter sits in the main path.
 *
 * Names follow torchvision's ResNet (conv1, bn1, layer1.0.conv1, ..., fc). Strided CONVs use
 * fit: 'floor', PyTorch's rounding, under which any input size works: 28 -> 14 -> 7, 7 -> 4.
 */

/** The paper's stage widths. */
export const CIFAR_RESNET_WIDTHS: readonly number[] = [16, 32, 64];

/** The CIFAR ResNets' block (resnet.ts TwoConvBlock) with the paper's option A shortcut. */
export class CifarBasicBlock extends TwoConvBlock {
  /** null where the shape is kept (the identity). */
  shortcut: ZeroPadShortcut | null;

  constructor(inChannels: number, planes: number, opts: { stride?: number } = {}) {
    const stride = opts.stride ?? 1;
    super('CifarBasicBlock', inChannels, planes, stride);
    this.shortcut = stride === 1 && inChannels === planes ? null : new ZeroPadShortcut(inChannels, planes, { stride });
    this.configArgs = [inChannels, planes, { ...opts }];
  }

  protected shortcutLayer(): Module | null {
    return this.shortcut;
  }
}

/** Options of `CifarResNet`: depth, widths, classes and input channels. */
export interface CifarResNetOptions {
  /** Blocks per stage, n: depth 6n + 2 with the paper's three stages. */
  blocks: number;
  /** Filters of each stage; default 16, 32, 64. */
  widths?: readonly number[];
  numClasses?: number;
  inChannels?: number;
}

export class CifarResNet extends GraphModule {
  // `declare`: children become properties in assignment order, the state dict's order; the
  // stages (layer1, layer2, ...) must come between relu and avgpool.
  declare conv1: Conv2d;
  declare bn1: BatchNorm2d;
  declare relu: ReLU;
  /** The stages, also set as the children layer1, layer2, ... (one Sequential each). */
  declare readonly stages: readonly Sequential[];
  declare avgpool: AdaptiveAvgPool2d;
  declare flatten: Flatten;
  declare fc: Linear;

  constructor(opts: CifarResNetOptions) {
    super();
    const o = opts ?? ({} as CifarResNetOptions);
    if (!Number.isInteger(o.blocks) || o.blocks < 1) throw new ConvkitError(`CifarResNet: blocks (per stage) must be a positive integer, got ${JSON.stringify(o.blocks)}`);
    const widths = o.widths ?? CIFAR_RESNET_WIDTHS;
    if (!Array.isArray(widths) || widths.length === 0 || widths.some((w) => !Number.isInteger(w) || w < 1)) {
      throw new ConvkitError(`CifarResNet: widths must list a positive number of filters per stage, got ${JSON.stringify(o.widths)}`);
    }
    if (widths.some((w, i) => i > 0 && w < widths[i - 1]!)) {
      throw new ConvkitError(`CifarResNet: widths must not decrease (the zero-padding shortcut only adds channels), got ${JSON.stringify(widths)}`);
    }
    const numClasses = o.numClasses ?? 10;
    const inChannels = o.inChannels ?? 3;
    for (const [k, v] of [['numClasses', numClasses], ['inChannels', inChannels]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ConvkitError(`CifarResNet: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
    }
    this.conv1 = new Conv2d(inChannels, widths[0]!, 3, { padding: 1, bias: false });
    this.bn1 = new BatchNorm2d(widths[0]!);
    this.relu = new ReLU({ inplace: true });
    const channels = addStages(this, widths, widths.map(() => o.blocks), (cin, planes, stride) => new CifarBasicBlock(cin, planes, { stride }));
    this.avgpool = new AdaptiveAvgPool2d(1);
    this.flatten = new Flatten();
    this.fc = new Linear(channels, numClasses);
    this.configArgs = [{ ...o }];
  }

  /** Weighted layers: 2 per block, the first CONV and the FC (6n + 2 with three stages). */
  get depth(): number {
    return 2 * this.stages.reduce((s, st) => s + st.length, 0) + 2;
  }

  traceGraph<V>(x: V, ops: GraphOps<V>): V {
    let h = callChain(ops, [this.conv1, this.bn1, this.relu], x);
    for (const stage of this.stages) h = ops.call(stage, h);
    return ops.call(this.fc, ops.call(this.flatten, ops.call(this.avgpool, h)));
  }

  override describe(): string {
    return `CifarResNet(depth=${this.depth})`;
  }
}

register('CifarBasicBlock', CifarBasicBlock);
register('CifarResNet', CifarResNet);

/** The zoo's options for a CIFAR ResNet with n blocks per stage. */
export function cifarResNetOptions(name: string, blocks: number, opts: ZooOptions): CifarResNetOptions {
  // inputSize is checked but free: global average pooling takes any size.
  const { numClasses, inChannels } = resolveZooOptions(name, opts, { numClasses: 10, inputSize: 32, inChannels: 3 });
  return { blocks, numClasses, inChannels };
}

/** ResNet-20 (n = 3): 269,722 parameters for 10 classes on 32x32x3 (the paper: 0.27M). */
export const resnet20 = (opts: ZooOptions = {}): CifarResNet => new CifarResNet(cifarResNetOptions('resnet20', 3, opts));
/** ResNet-32 (n = 5): 464,154 parameters (0.46M). */
export const resnet32 = (opts: ZooOptions = {}): CifarResNet => new CifarResNet(cifarResNetOptions('resnet32', 5, opts));
/** ResNet-56 (n = 9): 853,018 parameters (0.85M). */
export const resnet56 = (opts: ZooOptions = {}): CifarResNet => new CifarResNet(cifarResNetOptions('resnet56', 9, opts));
