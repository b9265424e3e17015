import type { ModuleConfig } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import { ConvkitError } from '../tensor/errors.js';
import { conv, dropout, flatten, globalAvgPool, relu, sequential } from './layer-configs.js';
import { resolveZooOptions, type ZooOptions } from './options.js';

/**
 * The all-convolutional net All-CNN-C (Springenberg et al. 2014, "Striving for Simplicity")
 * for CIFAR-10: every POOL3/2 is replaced by a CONV3 of stride 2, and the FC layers by 1x1
 * CONVs and global average pooling. 1,369,738 parameters on 32x32x3.
 *   CONV3-96, CONV3-96, CONV3-96/2 [16x16x96], CONV3-192, CONV3-192, CONV3-192/2 [8x8x192],
 *   CONV3-192 (no pad) [6x6x192], CONV1-192, CONV1-10 [6x6x10], GAP [1x1x10].
 * Dropout as in the paper: 20% on the input, 50% after each stride-2 CONV.
 */
export function allconvConfig(opts: ZooOptions = {}): ModuleConfig {
  const { numClasses, inputSize, inChannels } = resolveZooOptions('allconv', opts, { numClasses: 10, inputSize: 32, inChannels: 3 });
  if (inputSize % 4 !== 0 || inputSize < 12) {
    throw new ConvkitError(`allconv: inputSize must be a multiple of 4 and at least 12 (two stride-2 CONVs, then a 3x3 CONV without padding), got ${inputSize}`);
  }
  // A stride-2 CONV3 halves an even size exactly with one pixel of padding on the far side
  // only (TensorFlow's 'SAME'): (32 + 0 + 1 - 3)/2 + 1 = 16. Symmetric pad 1 would give 16.5.
  const down = { stride: 2, padding: [0, 1, 0, 1] } as const;
  return sequential([
    dropout(0.2),
    conv(inChannels, 96, 3, { padding: 1 }), relu(),
    conv(96, 96, 3, { padding: 1 }), relu(),
    conv(96, 96, 3, down), relu(), dropout(0.5),
    conv(96, 192, 3, { padding: 1 }), relu(),
    conv(192, 192, 3, { padding: 1 }), relu(),
    conv(192, 192, 3, down), relu(), dropout(0.5),
    conv(192, 192, 3), relu(),
    conv(192, 192, 1), relu(),
    conv(192, numClasses, 1), relu(),
    globalAvgPool(), flatten(),
  ]);
}

/** All-CNN-C (see `allconvConfig`), built with fresh weights. */
export function allconv(opts: ZooOptions = {}): Sequential {
  return Sequential.fromConfig(allconvConfig(opts).args);
}
