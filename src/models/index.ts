/** `ck.models`: the zoo. Every function takes {numClasses, inputSize, inChannels} where it makes sense. */
import type { Module, ModuleConfig } from '../nn/module.js';
import { ConvkitError } from '../tensor/errors.js';
import { alexnet, alexnetConfig } from './alexnet.js';
import { allconv, allconvConfig } from './allconv.js';
import { cifarDemo } from './cifar-demo.js';
import { cifarResNetOptions, resnet20, resnet32, resnet56 } from './cifar-resnet.js';
import { googlenet } from './googlenet.js';
import { lenet5 } from './lenet5.js';
import { resolveZooOptions, type ZooOptions } from './options.js';
import { resnet18, resnet34, resnet50 } from './resnet.js';
import { tinyVgg, tinyVggConfig } from './tiny-vgg.js';
import { vggSmallBn, vggSmallBnConfig } from './vgg-small-bn.js';
import { vgg11, vgg11bn, vgg11lrn, vgg13, vgg13bn, vgg16, vgg16bn, vgg16c, vgg19, vgg19bn, vggConfig } from './vgg.js';
import { alexnetTorchvision, alexnetTorchvisionConfig } from './torchvision-alexnet.js';
import { zfnet, zfnetConfig } from './zfnet.js';
import { torchvisionStateDict } from './torchvision-names.js';
import { registerStateDictSource } from '../nn/state-dict-sources.js';

export { lenet5, cifarDemo, alexnet, zfnet, vgg11, vgg11lrn, vgg13, vgg16, vgg16c, vgg19, googlenet, resnet18, resnet34, resnet50, allconv, tinyVgg };
export { alexnetConfig, zfnetConfig, allconvConfig, tinyVggConfig, vggConfig };
export { alexnetTorchvision, alexnetTorchvisionConfig, vgg11bn, vgg13bn, vgg16bn, vgg19bn };
export { resnet20, resnet32, resnet56, vggSmallBn, vggSmallBnConfig };
export { CifarResNet, CifarBasicBlock, CIFAR_RESNET_WIDTHS, type CifarResNetOptions } from './cifar-resnet.js';
export { ZeroPadShortcut } from './zero-pad-shortcut.js';
export { VGG_SMALL_BN } from './vgg-small-bn.js';
export { TORCHVISION_ZOO_NAMES, torchvisionStateDict, type StateDictSource } from './torchvision-names.js';
export type { VggConfiguration } from './vgg.js';
export { ResNet, BasicBlock, Bottleneck, type ResNetOptions } from './resnet.js';
export { GoogLeNet, Inception, BasicConv2d, type GoogLeNetOptions, type InceptionSizes } from './googlenet.js';
export { GraphModule } from './graph-module.js';
export type { ZooOptions };

// loadStateDict(dict, { from: 'torchvision' }) works wherever the zoo is loaded.
registerStateDictSource('torchvision', torchvisionStateDict);

/** Zoo entries by the names the CLI accepts (kebab-case aliases included). */
export const zoo: Record<string, (opts?: ZooOptions) => Module> = {
  lenet5,
  cifarDemo,
  'cifar-demo': cifarDemo,
  alexnet,
  zfnet,
  vgg11,
  vgg11lrn,
  'vgg11-lrn': vgg11lrn,
  vgg13,
  vgg16,
  vgg16c,
  vgg19,
  googlenet,
  resnet18,
  resnet34,
  resnet50,
  allconv,
  tinyVgg,
  'tiny-vgg': tinyVgg,
  alexnetTorchvision,
  'alexnet-torchvision': alexnetTorchvision,
  vgg11bn,
  vgg13bn,
  vgg16bn,
  vgg19bn,
  resnet20,
  resnet32,
  resnet56,
  vggSmallBn,
  'vgg-small-bn': vggSmallBn,
};

/** Default input [C, H, W] of each zoo entry. */
export const zooInputShapes: Record<string, [number, number, number]> = {
  lenet5: [1, 28, 28],
  cifarDemo: [3, 32, 32],
  'cifar-demo': [3, 32, 32],
  alexnet: [3, 227, 227],
  zfnet: [3, 227, 227],
  vgg11: [3, 224, 224],
  vgg11lrn: [3, 224, 224],
  'vgg11-lrn': [3, 224, 224],
  vgg13: [3, 224, 224],
  vgg16: [3, 224, 224],
  vgg16c: [3, 224, 224],
  vgg19: [3, 224, 224],
  googlenet: [3, 224, 224],
  resnet18: [3, 224, 224],
  resnet34: [3, 224, 224],
  resnet50: [3, 224, 224],
  allconv: [3, 32, 32],
  tinyVgg: [3, 64, 64],
  'tiny-vgg': [3, 64, 64],
  alexnetTorchvision: [3, 224, 224],
  'alexnet-torchvision': [3, 224, 224],
  vgg11bn: [3, 224, 224],
  vgg13bn: [3, 224, 224],
  vgg16bn: [3, 224, 224],
  vgg19bn: [3, 224, 224],
  resnet20: [3, 32, 32],
  resnet32: [3, 32, 32],
  resnet56: [3, 32, 32],
  vggSmallBn: [1, 28, 28],
  'vgg-small-bn': [1, 28, 28],
};

/** A zoo model by name (e.g. 'lenet5', 'vgg16', 'resnet18'), with fresh weights; throws listing the names it knows. */
export function createModel(name: string, opts: ZooOptions = {}): Module {
  const make = zoo[name];
  if (!make) throw new ConvkitError(`unknown model '${name}'; the zoo has: ${Object.keys(zoo).join(', ')}`);
  return make(opts);
}

/** The input [C, H, W] a zoo entry expects with these options (its default size unless inputSize is given). */
export function zooInputShape(name: string, opts: ZooOptions = {}): [number, number, number] {
  const shape = zooInputShapes[name];
  if (!shape) throw new ConvkitError(`unknown model '${name}'; the zoo has: ${Object.keys(zoo).join(', ')}`);
  const size = opts.inputSize ?? shape[1];
  return [opts.inChannels ?? shape[0], size, size];
}

/** Architecture descriptions that need no weights, for the zoo entries written as layer lists. */
const configs: Record<string, (opts: ZooOptions) => ModuleConfig> = {
  alexnet: alexnetConfig,
  zfnet: zfnetConfig,
  vgg11: (o) => vggConfig('A', o),
  vgg11lrn: (o) => vggConfig('A-LRN', o),
  'vgg11-lrn': (o) => vggConfig('A-LRN', o),
  vgg13: (o) => vggConfig('B', o),
  vgg16c: (o) => vggConfig('C', o),
  vgg16: (o) => vggConfig('D', o),
  vgg19: (o) => vggConfig('E', o),
  vgg11bn: (o) => vggConfig('A', { ...o, batchNorm: true }),
  vgg13bn: (o) => vggConfig('B', { ...o, batchNorm: true }),
  vgg16bn: (o) => vggConfig('D', { ...o, batchNorm: true }),
  vgg19bn: (o) => vggConfig('E', { ...o, batchNorm: true }),
  alexnetTorchvision: alexnetTorchvisionConfig,
  'alexnet-torchvision': alexnetTorchvisionConfig,
  allconv: allconvConfig,
  tinyVgg: tinyVggConfig,
  'tiny-vgg': tinyVggConfig,
  resnet18: (o) => resnetConfig('resnet18', 'basic', [2, 2, 2, 2], o),
  resnet34: (o) => resnetConfig('resnet34', 'basic', [3, 4, 6, 3], o),
  resnet50: (o) => resnetConfig('resnet50', 'bottleneck', [3, 4, 6, 3], o),
  resnet20: (o) => ({ type: 'CifarResNet', args: [cifarResNetOptions('resnet20', 3, o)] }),
  resnet32: (o) => ({ type: 'CifarResNet', args: [cifarResNetOptions('resnet32', 5, o)] }),
  resnet56: (o) => ({ type: 'CifarResNet', args: [cifarResNetOptions('resnet56', 9, o)] }),
  vggSmallBn: vggSmallBnConfig,
  'vgg-small-bn': vggSmallBnConfig,
  googlenet: (o) => {
    const { numClasses, inChannels } = resolveZooOptions('googlenet', o, { numClasses: 1000, inputSize: 224, inChannels: 3 });
    return { type: 'GoogLeNet', args: [{ numClasses, inChannels, fiveByFive: false }] };
  },
};

function resnetConfig(name: string, block: 'basic' | 'bottleneck', layers: number[], o: ZooOptions): ModuleConfig {
  const { numClasses, inChannels } = resolveZooOptions(name, o, { numClasses: 1000, inputSize: 224, inChannels: 3 });
  return { type: 'ResNet', args: [{ block, layers, numClasses, inChannels }] };
}

/**
 * A zoo entry's architecture as `getConfig()` JSON, without building it where it can: the
 * summary reads VGG-16 from this in milliseconds instead of allocating 553 MB of weights.
 * Graph models (ResNet, GoogLeNet) come back as one node that the summary builds; the small
 * ones are built and asked.
 */
export function zooConfig(name: string, opts: ZooOptions = {}): ModuleConfig {
  const make = configs[name];
  if (make) return make(opts);
  return createModel(name, opts).getConfig();
}
