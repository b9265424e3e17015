import { Conv2d } from '../nn/conv2d.js';
import { Flatten } from '../nn/flatten.js';
import { Linear } from '../nn/linear.js';
import { MaxPool2d } from '../nn/max-pool2d.js';
import { ReLU } from '../nn/relu.js';
import { Sequential } from '../nn/sequential.js';
import { ConvkitError } from '../tensor/errors.js';
import { resolveZooOptions, type ZooOptions } from './options.js';

/**
 * The ConvNetJS CIFAR-10 demo network: 3 x [CONV5 (16, 20, 20 filters, pad 2) -> RELU ->
 * POOL2] -> FC10, on 32x32x3 (4x4x20 = 320 features before the classifier).
 */
export function cifarDemo(opts: ZooOptions = {}): Sequential {
  const { numClasses, inputSize, inChannels } = resolveZooOptions('cifarDemo', opts, { numClasses: 10, inputSize: 32, inChannels: 3 });
  if (inputSize % 8 !== 0) throw new ConvkitError(`cifarDemo: inputSize must be a multiple of 8 (three 2x2 pools), got ${inputSize}`);
  const side = inputSize / 8;
  return new Sequential(
    new Conv2d(inChannels, 16, 5, { padding: 2 }),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(16, 20, 5, { padding: 2 }),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(20, 20, 5, { padding: 2 }),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Linear(20 * side * side, numClasses),
  );
}
