import { addThen, callChain, type GraphOps } from '../nn/graph-trace.js';
import { AdaptiveAvgPool2d } from '../nn/adaptive-avg-pool2d.js';
import { BatchNorm2d } from '../nn/batch-norm.js';
import { Conv2d } from '../nn/conv2d.js';
import { Flatten } from '../nn/flatten.js';
import { Linear } from '../nn/linear.js';
import { MaxPool2d } from '../nn/max-pool2d.js';
import { register } from '../nn/registry.js';
import { ReLU } from '../nn/relu.js';
import { Sequential } from '../nn/sequential.js';
import type { Module } from '../nn/module.js';
import { ConvkitError } from '../tensor/errors.js';
import { GraphModule } from './graph-module.js';
import { resolveZooOptions, type ZooOptions } from './options.js';

/**
 * ResNet (He et al. 2015) as torchvision builds it, with the same child names, so that the
 * state dict keys match PyTorch's one to one (`layer1.0.conv1.weight`, `fc.bias`, ...):
 * CONV7-64/2 -> BN -> RELU -> POOL3/2, four stages of residual blocks (the first block of
 * stages 2-4 halves the size with stride 2 and a 1x1 projection shortcut; the others use the
 * identity), global average pooling, FC.
 *
 * Strided layers use fit: 'floor', PyTorch's rounding, which torchvision's ResNet relies on:
 * CONV7/2 pad 3 on 224 gives (224 - 7 + 2*3)/2 + 1 = 112.5, floored to 112.
 */
const FLOOR = { fit: 'floor' } as const;

/**
 * Sets `host.layer1..layerN` (enumerable, in order, so parameters are named as torchvision's)
 * and `host.stages` to stages of `counts[i]` blocks of `widths[i]` planes, the first block of
 * every stage after the first with stride 2; returns the channels the last stage gives.
 */
export function addStages(
  host: Module,
  widths: readonly number[],
  counts: readonly number[],
  makeBlock: (inChannels: number, planes: number, stride: number) => Module,
  expansion = 1,
): number {
  let channels = widths[0]!;
  const stages = widths.map((planes, i) => {
    const blocks: Module[] = [];
    for (let j = 0; j < counts[i]!; j++) {
      blocks.push(makeBlock(channels, planes, i > 0 && j === 0 ? 2 : 1));
      channels = planes * expansion;
    }
    return new Sequential(...blocks);
  });
  stages.forEach((st, i) => Object.defineProperty(host, `layer${i + 1}`, { value: st, enumerable: true, writable: true }));
  Object.defineProperty(host, 'stages', { value: stages, enumerable: false });
  return channels;
}

/** A 1x1 CONV (stride s) + BN: the projection shortcut, used where the shape changes. */
function projection(inChannels: number, outChannels: number, stride: number): Sequential | null {
  if (stride === 1 && inChannels === outChannels) return null;
  return new Sequential(new Conv2d(inChannels, outChannels, 1, { stride, bias: false, ...FLOOR }), new BatchNorm2d(outChannels));
}

function checkBlockArgs(name: string, inChannels: number, planes: number, stride: number): void {
  for (const [k, v] of [['inChannels', inChannels], ['planes', planes], ['stride', stride]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ConvkitError(`${name}: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
  }
}

/**
 * Two CONV3 -> BN with a RELU between and after the sum: out = relu(F(x) + shortcut(x)). The
 * subclasses choose the shortcut where the shape changes (ResNet-18/34's projection, the CIFAR
 * ResNets' zero padding) and keep their own field names for it (torchvision's `downsample`).
 */
export abstract class TwoConvBlock extends GraphModule {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu: ReLU;
  conv2: Conv2d;
  bn2: BatchNorm2d;

  constructor(name: string, inChannels: number, planes: number, stride: number) {
    super();
    checkBlockArgs(name, inChannels, planes, stride);
    this.conv1 = new Conv2d(inChannels, planes, 3, { stride, padding: 1, bias: false, ...FLOOR });
    this.bn1 = new BatchNorm2d(planes);
    this.relu = new ReLU({ inplace: true });
    this.conv2 = new Conv2d(planes, planes, 3, { padding: 1, bias: false });
    this.bn2 = new BatchNorm2d(planes);
  }

  /** The shortcut's layer; null for the identity. */
  protected abstract shortcutLayer(): Module | null;

  traceGraph<V>(x: V, ops: GraphOps<V>): V {
    let out = callChain(ops, [this.conv1, this.bn1, this.relu], x);
    out = callChain(ops, [this.conv2, this.bn2], out);
    const layer = this.shortcutLayer();
    const shortcut = layer ? ops.call(layer, x) : x;
    return addThen(ops, out, shortcut, this.relu);
  }

  override describe(): string {
    return `${this.typeName}(${this.conv1.inChannels}, ${this.conv2.outChannels}${this.conv1.stride[0] !== 1 ? `, stride=${this.conv1.stride[0]}` : ''})`;
  }
}

/** ResNet-18/34's block: the projection shortcut (1x1 CONV + BN) where the shape changes. */
export class BasicBlock extends TwoConvBlock {
  static readonly expansion = 1;
  downsample: Sequential | null;

  constructor(inChannels: number, planes: number, opts: { stride?: number } = {}) {
    const stride = opts.stride ?? 1;
    super('BasicBlock', inChannels, planes, stride);
    this.downsample = projection(inChannels, planes, stride);
    this.configArgs = [inChannels, planes, { ...opts }];
  }

  protected shortcutLayer(): Module | null {
    return this.downsample;
  }
}

/**
 * 1x1 CONV (reduce to `planes`) -> 3x3 CONV (stride here, as torchvision's "v1.5") -> 1x1 CONV
 * (expand to 4 * planes), each with BN: ResNet-50 and deeper.
 */
export class Bottleneck extends GraphModule {
  static readonly expansion = 4;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  conv3: Conv2d;
  bn3: BatchNorm2d;
  relu: ReLU;
  downsample: Sequential | null;

  constructor(inChannels: number, planes: number, opts: { stride?: number } = {}) {
    super();
    const stride = opts.stride ?? 1;
    checkBlockArgs('Bottleneck', inChannels, planes, stride);
    const out = planes * Bottleneck.expansion;
    this.conv1 = new Conv2d(inChannels, planes, 1, { bias: false });
    this.bn1 = new BatchNorm2d(planes);
    this.conv2 = new Conv2d(planes, planes, 3, { stride, padding: 1, bias: false, ...FLOOR });
    this.bn2 = new BatchNorm2d(planes);
    this.conv3 = new Conv2d(planes, out, 1, { bias: false });
    this.bn3 = new BatchNorm2d(out);
    this.relu = new ReLU({ inplace: true });
    this.downsample = projection(inChannels, out, stride);
    this.configArgs = [inChannels, planes, { ...opts }];
  }

  traceGraph<V>(x: V, ops: GraphOps<V>): V {
    let out = callChain(ops, [this.conv1, this.bn1, this.relu], x);
    out = callChain(ops, [this.conv2, this.bn2, this.relu], out);
    out = callChain(ops, [this.conv3, this.bn3], out);
    const shortcut = this.downsample ? ops.call(this.downsample, x) : x;
    return addThen(ops, out, shortcut, this.relu);
  }

  override describe(): string {
    return `Bottleneck(${this.conv1.inChannels}, ${this.conv1.outChannels}${this.conv2.stride[0] !== 1 ? `, stride=${this.conv2.stride[0]}` : ''})`;
  }
}

/** The shape of a ResNet: block type, blocks per stage, widths and classes. */
export interface ResNetOptions {
  block: 'basic' | 'bottleneck';
  /** Blocks per stage, e.g. [2, 2, 2, 2] for ResNet-18. */
  layers: readonly number[];
  /** Channels of each stage's blocks (before the bottleneck's 4x expansion); default 64, 128, 256, 512. */
  widths?: readonly number[];
  numClasses?: number;
  inChannels?: number;
}

export class ResNet extends GraphModule {
  // `declare`: the children become properties in assignment order, which is the order of the
  // state dict; the stages (layer1, layer2, ...) must come between maxpool and avgpool.
  declare conv1: Conv2d;
  declare bn1: BatchNorm2d;
  declare relu: ReLU;
  declare maxpool: MaxPool2d;
  /** The stages, also set as the children layer1, layer2, ... (one Sequential each). */
  declare readonly stages: readonly Sequential[];
  declare avgpool: AdaptiveAvgPool2d;
  declare flatten: Flatten;
  declare fc: Linear;

  constructor(opts: ResNetOptions) {
    super();
    const block = opts.block === 'basic' ? BasicBlock : opts.block === 'bottleneck' ? Bottleneck : null;
    if (!block) throw new ConvkitError(`ResNet: block must be 'basic' or 'bottleneck', got ${JSON.stringify(opts.block)}`);
    const widths = opts.widths ?? [64, 128, 256, 512];
    if (!Array.isArray(opts.layers) || opts.layers.length !== widths.length || opts.layers.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new ConvkitError(`ResNet: layers must list a positive number of blocks for each of the ${widths.length} stages, got ${JSON.stringify(opts.layers)}`);
    }
    const numClasses = opts.numClasses ?? 1000;
    const inChannels = opts.inChannels ?? 3;
    this.conv1 = new Conv2d(inChannels, widths[0]!, 7, { stride: 2, padding: 3, bias: false, ...FLOOR });
    this.bn1 = new BatchNorm2d(widths[0]!);
    this.relu = new ReLU({ inplace: true });
    this.maxpool = new MaxPool2d(3, { stride: 2, padding: 1, ...FLOOR });
    // torchvision's names: layer1..layer4, between maxpool and avgpool in the children's order.
    const channels = addStages(this, widths, opts.layers, (cin, planes, stride) => new block(cin, planes, { stride }), block.expansion);
    this.avgpool = new AdaptiveAvgPool2d(1);
    this.flatten = new Flatten();
    this.fc = new Linear(channels, numClasses);
    this.configArgs = [{ ...opts }];
  }

  traceGraph<V>(x: V, ops: GraphOps<V>): V {
    let h = callChain(ops, [this.conv1, this.bn1, this.relu, this.maxpool], x);
    for (const stage of this.stages) h = ops.call(stage, h);
    return ops.call(this.fc, ops.call(this.flatten, ops.call(this.avgpool, h)));
  }

  override describe(): string {
    return `ResNet(${this.stages.map((s) => s.length).join(', ')})`;
  }
}

register('BasicBlock', BasicBlock);
register('Bottleneck', Bottleneck);
register('ResNet', ResNet);

function resnet(name: string, block: ResNetOptions['block'], layers: number[], opts: ZooOptions): ResNet {
  // inputSize is free: global average pooling takes any size the strided layers accept.
  const { numClasses, inChannels } = resolveZooOptions(name, opts, { numClasses: 1000, inputSize: 224, inChannels: 3 });
  return new ResNet({ block, layers, numClasses, inChannels });
}

/** ResNet-18: BasicBlocks [2, 2, 2, 2]; 11,689,512 parameters (torchvision). */
export const resnet18 = (opts: ZooOptions = {}): ResNet => resnet('resnet18', 'basic', [2, 2, 2, 2], opts);
/** ResNet-34: BasicBlocks [3, 4, 6, 3]; 21,797,672 parameters (torchvision). */
export const resnet34 = (opts: ZooOptions = {}): ResNet => resnet('resnet34', 'basic', [3, 4, 6, 3], opts);
/** ResNet-50: Bottlenecks [3, 4, 6, 3]; 25,557,032 parameters (torchvision). */
export const resnet50 = (opts: ZooOptions = {}): ResNet => resnet('resnet50', 'bottleneck', [3, 4, 6, 3], opts);
