import type { ModuleConfig } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import { ConvkitError } from '../tensor/errors.js';
import { conv, flatten, linear, maxPool, relu, sequential } from './layer-configs.js';
import { resolveZooOptions, type ZooOptions } from './options.js';

/**
 * Tiny VGG, the network of CNN Explainer (Wang et al. 2020): two blocks of
 * [CONV3-10 (no padding) -> RELU]*2 -> POOL2, then FC10. On 64x64x3:
 * 62, 60, POOL 30, 28, 26, POOL 13 -> 13x13x10 = 1690 features; 19,920 parameters.
 */
export function tinyVggConfig(opts: ZooOptions = {}): ModuleConfig {
  const { numClasses, inputSize, inChannels } = resolveZooOptions('tinyVgg', opts, { numClasses: 10, inputSize: 64, inChannels: 3 });
  if (inputSize % 4 !== 0 || inputSize < 16) {
    throw new ConvkitError(`tinyVgg: inputSize must be a multiple of 4 and at least 16 (two unpadded CONV3 pairs and two 2x2 pools), got ${inputSize}`);
  }
  const side = ((inputSize - 4) / 2 - 4) / 2;
  return sequential([
    conv(inChannels, 10, 3), relu(), conv(10, 10, 3), relu(), maxPool(2),
    conv(10, 10, 3), relu(), conv(10, 10, 3), relu(), maxPool(2),
    flatten(), linear(10 * side * side, numClasses),
  ]);
}

/** Tiny VGG (see `tinyVggConfig`), built with fresh weights. */
export function tinyVgg(opts: ZooOptions = {}): Sequential {
  return Sequential.fromConfig(tinyVggConfig(opts).args);
}
