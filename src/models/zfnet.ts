import type { ModuleConfig } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import { trunkSide } from './alexnet.js';
import { classifier, conv, lrn, maxPool, relu, sequential } from './layer-configs.js';
import { resolveZooOptions, type ZooOptions } from './options.js';

/**
 * ZFNet (Zeiler & Fergus 2013): AlexNet with a smaller, finer first layer (CONV7-96/2, so
 * that the first filters do not alias) and wider middle layers (CONV3-512, CONV3-1024,
 * CONV3-512: the paper's larger model). CONV2 has stride 2 as in the paper, with pad 1 so
 * that every size divides on 227x227x3: CONV7/2 [111x111x96] -> POOL3/2 [55x55x96] -> NORM ->
 * CONV5-256/2 pad 1 [27x27x256] -> POOL3/2 [13x13x256] -> NORM -> CONV3-512, CONV3-1024,
 * CONV3-512 -> POOL3/2 [6x6x512] -> FC4096 -> FC4096 -> FC1000. 107,627,624 parameters.
 */
export function zfnetConfig(opts: ZooOptions = {}): ModuleConfig {
  const { numClasses, inputSize, inChannels } = resolveZooOptions('zfnet', opts, { numClasses: 1000, inputSize: 227, inChannels: 3 });
  const side = trunkSide('zfnet', inputSize, 7, 2, 0, { f: 5, s: 2, p: 1 });
  return sequential([
    conv(inChannels, 96, 7, { stride: 2 }), relu(), maxPool(3, { stride: 2 }), lrn(),
    conv(96, 256, 5, { stride: 2, padding: 1 }), relu(), maxPool(3, { stride: 2 }), lrn(),
    conv(256, 512, 3, { padding: 1 }), relu(),
    conv(512, 1024, 3, { padding: 1 }), relu(),
    conv(1024, 512, 3, { padding: 1 }), relu(), maxPool(3, { stride: 2 }),
    ...classifier(512 * side * side, 4096, numClasses),
  ]);
}

/** ZFNet (see `zfnetConfig`), built with fresh weights. */
export function zfnet(opts: ZooOptions = {}): Sequential {
  return Sequential.fromConfig(zfnetConfig(opts).args);
}
