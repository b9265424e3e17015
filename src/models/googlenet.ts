import { callChain, type GraphOps } from '../nn/graph-trace.js';
import { AdaptiveAvgPool2d } from '../nn/adaptive-avg-pool2d.js';
import { BatchNorm2d } from '../nn/batch-norm.js';
import { Conv2d, type Conv2dLayerOptions } from '../nn/conv2d.js';
import { Dropout } from '../nn/dropout.js';
import { Flatten } from '../nn/flatten.js';
import { Linear } from '../nn/linear.js';
import { MaxPool2d } from '../nn/max-pool2d.js';
import { register } from '../nn/registry.js';
import { ReLU } from '../nn/relu.js';
import { Sequential } from '../nn/sequential.js';
import { ConvkitError } from '../tensor/errors.js';
import { GraphModule } from './graph-module.js';
import { resolveZooOptions, type ZooOptions } from './options.js';

/**
 * GoogLeNet (Szegedy et al. 2014, Inception v1) as torchvision builds it, child names included
 * so that state dicts map one to one: every CONV is a BasicConv2d (CONV without bias -> BN ->
 * RELU), no auxiliary classifiers, and global average pooling -> dropout 0.2 -> FC in place
 * of the big FC layers of AlexNet/VGG. 6,624,904 parameters.
 *
 * torchvision's third branch uses a 3x3 CONV where the paper has a 5x5 (a known slip kept for
 * its pretrained weights); `fiveByFive: true` restores the paper's 5x5 (7,005,832 parameters).
 * Pools round up (fit: 'ceil', PyTorch's ceil_mode) and CONV1 down (fit: 'floor'), as there.
 */

/** CONV (no bias) -> BN (eps 1e-3) -> RELU. */
export class BasicConv2d extends GraphModule {
  conv: Conv2d;
  bn: BatchNorm2d;
  relu: ReLU;

  constructor(inChannels: number, outChannels: number, kernelSize: number, opts: Omit<Conv2dLayerOptions, 'bias'> = {}) {
    super();
    this.conv = new Conv2d(inChannels, outChannels, kernelSize, { ...opts, bias: false });
    this.bn = new BatchNorm2d(outChannels, { eps: 0.001 });
    this.relu = new ReLU({ inplace: true });
    this.configArgs = [inChannels, outChannels, kernelSize, { ...opts }];
  }

  traceGraph<V>(x: V, ops: GraphOps<V>): V {
    return callChain(ops, [this.conv, this.bn, this.relu], x);
  }

  override describe(): string {
    return `BasicConv2d(${this.conv.describe().slice('Conv2d('.length, -1)})`;
  }
}

/** Filters of one Inception module, in the paper's table 1 order. */
export interface InceptionSizes {
  ch1x1: number;
  ch3x3red: number;
  ch3x3: number;
  ch5x5red: number;
  ch5x5: number;
  poolProj: number;
}

/**
 * Four branches over the same input, concatenated along the channels: 1x1; 1x1 -> 3x3;
 * 1x1 -> 5x5 (3x3 in torchvision); POOL3/1 -> 1x1. The 1x1 "reduce" CONVs cut the channels
 * before the expensive filters, which is what keeps GoogLeNet small.
 */
export class Inception extends GraphModule {
  branch1: BasicConv2d;
  branch2: Sequential;
  branch3: Sequential;
  branch4: Sequential;

  constructor(inChannels: number, sizes: InceptionSizes, opts: { fiveByFive?: boolean } = {}) {
    super();
    for (const [k, v] of Object.entries({ inChannels, ...sizes })) {
      if (!Number.isInteger(v) || v < 1) throw new ConvkitError(`Inception: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
    }
    const k3 = opts.fiveByFive ? 5 : 3;
    this.branch1 = new BasicConv2d(inChannels, sizes.ch1x1, 1);
    this.branch2 = new Sequential(new BasicConv2d(inChannels, sizes.ch3x3red, 1), new BasicConv2d(sizes.ch3x3red, sizes.ch3x3, 3, { padding: 1 }));
    this.branch3 = new Sequential(new BasicConv2d(inChannels, sizes.ch5x5red, 1), new BasicConv2d(sizes.ch5x5red, sizes.ch5x5, k3, { padding: (k3 - 1) / 2 }));
    this.branch4 = new Sequential(new MaxPool2d(3, { stride: 1, padding: 1, fit: 'ceil' }), new BasicConv2d(inChannels, sizes.poolProj, 1));
    this.configArgs = [inChannels, { ...sizes }, { ...opts }];
  }

  get outChannels(): number {
    return this.branch1.conv.outChannels + [this.branch2, this.branch3, this.branch4].reduce((s, b) => s + (b.at(-1) as BasicConv2d).conv.outChannels, 0);
  }

  traceGraph<V>(x: V, ops: GraphOps<V>): V {
    return ops.cat([ops.call(this.branch1, x), ops.call(this.branch2, x), ops.call(this.branch3, x), ops.call(this.branch4, x)]);
  }

  override describe(): string {
    return `Inception(${this.branch1.conv.inChannels} -> ${this.outChannels})`;
  }
}

/** Table 1 of the paper: [name, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj]. */
const MODULES: [string, number, number, number, number, number, number][] = [
  ['3a', 64, 96, 128, 16, 32, 32],
  ['3b', 128, 128, 192, 32, 96, 64],
  ['4a', 192, 96, 208, 16, 48, 64],
  ['4b', 160, 112, 224, 24, 64, 64],
  ['4c', 128, 128, 256, 24, 64, 64],
  ['4d', 112, 144, 288, 32, 64, 64],
  ['4e', 256, 160, 320, 32, 128, 128],
  ['5a', 256, 160, 320, 32, 128, 128],
  ['5b', 384, 192, 384, 48, 128, 128],
];

/** Options of `googlenet`. */
export interface GoogLeNetOptions {
  numClasses?: number;
  inChannels?: number;
  /** The paper's 5x5 CONV in the third branch instead of torchvision's 3x3. Default false. */
  fiveByFive?: boolean;
}

export class GoogLeNet extends GraphModule {
  // `declare`: children become properties in assignment order, the state dict's order.
  declare conv1: BasicConv2d;
  declare maxpool1: MaxPool2d;
  declare conv2: BasicConv2d;
  declare conv3: BasicConv2d;
  declare maxpool2: MaxPool2d;
  declare avgpool: AdaptiveAvgPool2d;
  declare flatten: Flatten;
  declare dropout: Dropout;
  declare fc: Linear;
  /** The trunk after conv3 in order: maxpool2, inception3a, 3b, maxpool3, 4a-4e, maxpool4, 5a, 5b. */
  declare private readonly trunk: readonly (MaxPool2d | Inception)[];

  constructor(opts: GoogLeNetOptions = {}) {
    super();
    const numClasses = opts.numClasses ?? 1000;
    const inChannels = opts.inChannels ?? 3;
    const ceil = { stride: 2, fit: 'ceil' } as const;
    this.conv1 = new BasicConv2d(inChannels, 64, 7, { stride: 2, padding: 3, fit: 'floor' });
    this.maxpool1 = new MaxPool2d(3, ceil);
    this.conv2 = new BasicConv2d(64, 64, 1);
    this.conv3 = new BasicConv2d(64, 192, 3, { padding: 1 });
    const trunk: (MaxPool2d | Inception)[] = [];
    let channels = 192;
    const add = (name: string, m: MaxPool2d | Inception): void => {
      Object.defineProperty(this, name, { value: m, enumerable: true, writable: true });
      trunk.push(m);
    };
    add('maxpool2', new MaxPool2d(3, ceil));
    for (const [name, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, poolProj] of MODULES) {
      const m = new Inception(channels, { ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, poolProj }, { fiveByFive: opts.fiveByFive ?? false });
      add(`inception${name}`, m);
      channels = m.outChannels;
      if (name === '3b') add('maxpool3', new MaxPool2d(3, ceil));
      if (name === '4e') add('maxpool4', new MaxPool2d(2, ceil));
    }
    Object.defineProperty(this, 'trunk', { value: trunk, enumerable: false });
    this.avgpool = new AdaptiveAvgPool2d(1);
    this.flatten = new Flatten();
    this.dropout = new Dropout(0.2);
    this.fc = new Linear(channels, numClasses);
    this.configArgs = [{ ...opts }];
  }

  traceGraph<V>(x: V, ops: GraphOps<V>): V {
    let h = ops.call(this.conv3, ops.call(this.conv2, ops.call(this.maxpool1, ops.call(this.conv1, x))));
    for (const m of this.trunk) h = ops.call(m, h);
    return ops.call(this.fc, ops.call(this.dropout, ops.call(this.flatten, ops.call(this.avgpool, h))));
  }

  override describe(): string {
    return `GoogLeNet(${this.fc.outFeatures} classes)`;
  }
}

register('BasicConv2d', BasicConv2d);
register('Inception', Inception);
register('GoogLeNet', GoogLeNet);

/** GoogLeNet / Inception v1 (torchvision's layout); `fiveByFive` as in GoogLeNetOptions. */
export function googlenet(opts: ZooOptions & { fiveByFive?: boolean } = {}): GoogLeNet {
  const { numClasses, inChannels } = resolveZooOptions('googlenet', opts, { numClasses: 1000, inputSize: 224, inChannels: 3 });
  return new GoogLeNet({ numClasses, inChannels, fiveByFive: opts.fiveByFive ?? false });
}
