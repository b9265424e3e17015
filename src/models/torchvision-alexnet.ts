import type { ModuleConfig } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import { ConvkitError } from '../tensor/errors.js';
import { conv, dropout, flatten, linear, maxPool, relu, sequential } from './layer-configs.js';
import { resolveZooOptions, type ZooOptions } from './options.js';

/**
 * AlexNet as torchvision builds it (after Krizhevsky's "One weird trick" paper, 2014), which is
 * not the zoo's `alexnet`: no LRN, 64/192/384/256/256 filters, padding 2 on CONV1, a 6x6
 * adaptive average pool, and dropout before (not after) each hidden FC. 61,100,840 parameters.
 * Its layers sit at torchvision's indices (features.0 ... features.12, then the classifier), so
 * that torchvision's `alexnet` weights load by name (`loadStateDict(dict, { from: 'torchvision' })`).
 *
 * CONV1 rounds down as PyTorch does: (224 + 2*2 - 11)/4 + 1 = 55.25 -> 55; the pools too.
 */
export function alexnetTorchvisionConfig(opts: ZooOptions = {}): ModuleConfig {
  const { numClasses, inputSize, inChannels } = resolveZooOptions('alexnetTorchvision', opts, { numClasses: 1000, inputSize: 224, inChannels: 3 });
  let side = Math.floor((inputSize + 4 - 11) / 4) + 1;
  for (let i = 0; i < 3; i++) side = Math.floor((side - 3) / 2) + 1;
  if (side < 1) throw new ConvkitError(`alexnetTorchvision: inputSize ${inputSize} is too small: the last pool gets no window; the smallest is 63`);
  const floor = { fit: 'floor' } as const;
  return sequential([
    conv(inChannels, 64, 11, { stride: 4, padding: 2, ...floor }), relu(), maxPool(3, { stride: 2, ...floor }),
    conv(64, 192, 5, { padding: 2 }), relu(), maxPool(3, { stride: 2, ...floor }),
    conv(192, 384, 3, { padding: 1 }), relu(),
    conv(384, 256, 3, { padding: 1 }), relu(),
    conv(256, 256, 3, { padding: 1 }), relu(), maxPool(3, { stride: 2, ...floor }),
    // torchvision's avgpool: any input size ends as 6x6 (at 224 it is already 6x6).
    { type: 'AdaptiveAvgPool2d', args: [6] },
    flatten(),
    dropout(), linear(256 * 6 * 6, 4096), relu(),
    dropout(), linear(4096, 4096), relu(),
    linear(4096, numClasses),
  ]);
}

/** torchvision's AlexNet (see `alexnetTorchvisionConfig`), built with fresh weights. */
export function alexnetTorchvision(opts: ZooOptions = {}): Sequential {
  return Sequential.fromConfig(alexnetTorchvisionConfig(opts).args);
}
