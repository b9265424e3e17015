import type { ModuleConfig } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import { ConvkitError } from '../tensor/errors.js';
import { batchNorm, classifier, conv, lrn, maxPool, relu, sequential } from './layer-configs.js';
import { resolveZooOptions, type ZooOptions } from './options.js';

/**
 * VGG (Simonyan & Zisserman 2014, table 1): stacks of CONV3 (stride 1, pad 1) -> RELU and
 * POOL2 (stride 2), then FC4096 -> FC4096 -> FC1000, as torchvision builds them (with dropout
 * after the two hidden FC layers). Configurations: A (vgg11), A-LRN (vgg11lrn: LRN after the
 * first CONV), B (vgg13), C (vgg16c: the last CONV of blocks 3-5 is 1x1), D (vgg16), E (vgg19).
 * `batchNorm: true` puts a BN after every CONV, as torchvision's vgg11_bn ... vgg19_bn
 * (vgg11bn ... vgg19bn here), so that their `features.i` keep torchvision's indices.
 */
export type VggConfiguration = 'A' | 'A-LRN' | 'B' | 'C' | 'D' | 'E';

/** A number is a CONV3 with that many filters; [1, K] a CONV1; 'M' a POOL2; 'LRN' a NORM. */
type Item = number | readonly [1, number] | 'M' | 'LRN';

const PLANS: Record<VggConfiguration, readonly Item[]> = {
  A: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  'A-LRN': [64, 'LRN', 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  B: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  C: [64, 64, 'M', 128, 128, 'M', 256, 256, [1, 256], 'M', 512, 512, [1, 512], 'M', 512, 512, [1, 512], 'M'],
  D: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  E: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
};

/** The architecture of a VGG configuration as layer descriptions (nothing allocated). */
export function vggConfig(configuration: VggConfiguration, opts: ZooOptions & { batchNorm?: boolean } = {}): ModuleConfig {
  const plan = PLANS[configuration];
  if (!plan) throw new ConvkitError(`vgg: unknown configuration '${configuration}'; expected one of ${Object.keys(PLANS).join(', ')}`);
  const name = `vgg (configuration ${configuration})`;
  const bn = opts.batchNorm ?? false;
  if (typeof bn !== 'boolean') throw new ConvkitError(`${name}: batchNorm must be true or false, got ${JSON.stringify(opts.batchNorm)}`);
  const { numClasses, inputSize, inChannels } = resolveZooOptions(name, { numClasses: opts.numClasses, inputSize: opts.inputSize, inChannels: opts.inChannels }, { numClasses: 1000, inputSize: 224, inChannels: 3 });
  if (inputSize % 32 !== 0) {
    throw new ConvkitError(`${name}: inputSize must be a multiple of 32 (five 2x2 pools), got ${inputSize}; 224 gives the 7x7x512 volume of the paper`);
  }
  const layers: ModuleConfig[] = [];
  let channels = inChannels;
  for (const item of plan) {
    if (item === 'M') layers.push(maxPool(2));
    else if (item === 'LRN') layers.push(lrn());
    else {
      const [k, filters] = typeof item === 'number' ? [3, item] : item;
      // P = (F-1)/2 keeps the size, so that only the pools shrink the volume.
      layers.push(conv(channels, filters, k, { padding: (k - 1) / 2 }), ...(bn ? [batchNorm(filters)] : []), relu());
      channels = filters;
    }
  }
  const side = inputSize / 32;
  return sequential([...layers, ...classifier(512 * side * side, 4096, numClasses)]);
}

function build(configuration: VggConfiguration, opts: ZooOptions, batchNorm = false): Sequential {
  return Sequential.fromConfig(vggConfig(configuration, { ...opts, batchNorm }).args);
}

/** VGG configuration A: 8 CONV + 3 FC; 132,863,336 parameters at 224x224x3. */
export const vgg11 = (opts: ZooOptions = {}): Sequential => build('A', opts);
/** VGG configuration A-LRN: A with an LRN after the first CONV (no extra parameters). */
export const vgg11lrn = (opts: ZooOptions = {}): Sequential => build('A-LRN', opts);
/** VGG configuration B: 10 CONV + 3 FC; 133,047,848 parameters. */
export const vgg13 = (opts: ZooOptions = {}): Sequential => build('B', opts);
/** VGG configuration C: B plus a 1x1 CONV closing blocks 3, 4 and 5; 133,638,952 parameters. */
export const vgg16c = (opts: ZooOptions = {}): Sequential => build('C', opts);
/** VGG configuration D, "VGG-16": 13 CONV + 3 FC; 138,357,544 parameters. */
export const vgg16 = (opts: ZooOptions = {}): Sequential => build('D', opts);
/** VGG configuration E, "VGG-19": 16 CONV + 3 FC; 143,667,240 parameters. */
export const vgg19 = (opts: ZooOptions = {}): Sequential => build('E', opts);
/** VGG-11 with batch norm after every CONV (torchvision's vgg11_bn); 132,868,840 parameters. */
export const vgg11bn = (opts: ZooOptions = {}): Sequential => build('A', opts, true);
/** VGG-13 with batch norm (torchvision's vgg13_bn); 133,053,736 parameters. */
export const vgg13bn = (opts: ZooOptions = {}): Sequential => build('B', opts, true);
/** VGG-16 with batch norm (torchvision's vgg16_bn); 138,365,992 parameters. */
export const vgg16bn = (opts: ZooOptions = {}): Sequential => build('D', opts, true);
/** VGG-19 with batch norm (torchvision's vgg19_bn); 143,678,248 parameters. */
export const vgg19bn = (opts: ZooOptions = {}): Sequential => build('E', opts, true);
