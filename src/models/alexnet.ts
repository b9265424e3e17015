import type { ModuleConfig } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import { ConvkitError } from '../tensor/errors.js';
import { classifier, conv, lrn, maxPool, relu, sequential } from './layer-configs.js';
import { resolveZooOptions, type ZooOptions } from './options.js';

/**
 * AlexNet (Krizhevsky et al. 2012) as one tower on 227x227x3 (the paper's 224 does not fit
 * an 11x11 stride-4 CONV: (224 - 11)/4 + 1 = 54.25):
 * CONV11-96/4 [55x55x96] -> POOL3/2 [27x27x96] -> NORM -> CONV5-256 pad 2 [27x27x256] ->
 * POOL3/2 [13x13x256] -> NORM -> CONV3-384, CONV3-384, CONV3-256 (pad 1) -> POOL3/2 [6x6x256]
 * -> FC4096 -> FC4096 -> FC1000. 62,378,344 parameters (the two-tower original, whose CONV2,
 * CONV4 and CONV5 see half the channels, has about 60M).
 */
export function alexnetConfig(opts: ZooOptions = {}): ModuleConfig {
  const { numClasses, inputSize, inChannels } = resolveZooOptions('alexnet', opts, { numClasses: 1000, inputSize: 227, inChannels: 3 });
  // Sizes follow from the input: (W - 11)/4 + 1, then three 3x3/2 pools.
  const side = trunkSide('alexnet', inputSize, 11, 4, 0);
  return sequential([
    conv(inChannels, 96, 11, { stride: 4 }), relu(), maxPool(3, { stride: 2 }), lrn(),
    conv(96, 256, 5, { padding: 2 }), relu(), maxPool(3, { stride: 2 }), lrn(),
    conv(256, 384, 3, { padding: 1 }), relu(),
    conv(384, 384, 3, { padding: 1 }), relu(),
    conv(384, 256, 3, { padding: 1 }), relu(), maxPool(3, { stride: 2 }),
    ...classifier(256 * side * side, 4096, numClasses),
  ]);
}

/** AlexNet (see `alexnetConfig`), built with fresh weights. */
export function alexnet(opts: ZooOptions = {}): Sequential {
  return Sequential.fromConfig(alexnetConfig(opts).args);
}

/**
 * The side of the last volume of an AlexNet-like trunk: CONV1 (F, S, P), POOL3/2, a CONV2 of
 * stride conv2Stride (keeping the size at stride 1), POOL3/2, size-keeping CONV3-5, POOL3/2.
 * Every step must divide exactly; the error names the first that does not.
 */
export function trunkSide(name: string, inputSize: number, f: number, s: number, p: number, conv2?: { f: number; s: number; p: number }): number {
  const steps: [string, number, number, number][] = [
    [`CONV${f}/${s}`, f, s, p],
    ['POOL3/2', 3, 2, 0],
    ...(conv2 ? [[`CONV${conv2.f}/${conv2.s}`, conv2.f, conv2.s, conv2.p] as [string, number, number, number]] : []),
    ['POOL3/2', 3, 2, 0],
    ['POOL3/2', 3, 2, 0],
  ];
  let w = inputSize;
  for (const [label, k, st, pad] of steps) {
    const next = (w - k + 2 * pad) / st + 1;
    if (!Number.isInteger(next) || next < 1) {
      throw new ConvkitError(`${name}: inputSize ${inputSize} does not fit: at ${label}, (${w} - ${k} + 2*${pad})/${st} + 1 = ${next}; the default is 227`);
    }
    w = next;
  }
  return w;
}
