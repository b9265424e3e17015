import type { ModuleConfig } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import { ConvkitError } from '../tensor/errors.js';
import { dropout, flatten, linear, relu, sequential } from './layer-configs.js';
import { resolveZooOptions, type ZooOptions } from './options.js';

/**
 * A batch-norm VGG-style net for small images (28x28 digits and Fashion-MNIST, 32x32 CIFAR):
 * [CONV3-32 -> BN -> RELU]*2 -> POOL2 -> [CONV3-64 -> BN -> RELU]*2 -> POOL2 -> FC256 -> BN
 * -> RELU -> DROPOUT -> FC. The CONVs keep the size (pad 1) and have no bias (BN's shift
 * replaces it); the pools round down, so the FC layer sees 64 * floor(S / 4)^2 features:
 * 3136 on 28x28, 4096 on 32x32. On 28x28x1 with 10 classes: 871,338 parameters; on 32x32x3, 1,117,674.
 */

/** The architecture's numbers, in one place. */
export const VGG_SMALL_BN = {
  /** Filters of the two CONV pairs, each pair followed by a 2x2 pool. */
  blocks: [32, 64],
  /** CONVs per block. */
  convsPerBlock: 2,
  hidden: 256,
  dropout: 0.3,
} as const;

/** The `vggSmallBn` architecture as `getConfig()` JSON, without building it. */
export function vggSmallBnConfig(opts: ZooOptions = {}): ModuleConfig {
  const { numClasses, inputSize, inChannels } = resolveZooOptions('vggSmallBn', opts, { numClasses: 10, inputSize: 28, inChannels: 1 });
  const pools = VGG_SMALL_BN.blocks.length;
  if (inputSize < 2 ** pools) {
    throw new ConvkitError(`vggSmallBn: inputSize must be at least ${2 ** pools} (${pools} 2x2 pools), got ${inputSize}`);
  }
  const layers: ModuleConfig[] = [];
  let channels = inChannels;
  let side = inputSize;
  for (const filters of VGG_SMALL_BN.blocks) {
    for (let i = 0; i < VGG_SMALL_BN.convsPerBlock; i++) {
      layers.push(
        { type: 'Conv2d', args: [channels, filters, 3, { padding: 1, bias: false }] },
        { type: 'BatchNorm2d', args: [filters, {}] },
        relu(),
      );
      channels = filters;
    }
    // PyTorch's rounding: an odd side loses its last row and column.
    layers.push({ type: 'MaxPool2d', args: [2, { fit: 'floor' }] });
    side = Math.floor(side / 2);
  }
  return sequential([
    ...layers,
    flatten(),
    linear(channels * side * side, VGG_SMALL_BN.hidden),
    { type: 'BatchNorm1d', args: [VGG_SMALL_BN.hidden, {}] },
    relu(),
    dropout(VGG_SMALL_BN.dropout),
    linear(VGG_SMALL_BN.hidden, numClasses),
  ]);
}

/** The small BN VGG (see `vggSmallBnConfig`), built with fresh weights. */
export function vggSmallBn(opts: ZooOptions = {}): Sequential {
  return Sequential.fromConfig(vggSmallBnConfig(opts).args);
}
