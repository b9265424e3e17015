import { ConvkitError } from '../tensor/errors.js';
import { Conv2d } from '../nn/conv2d.js';
import { Flatten } from '../nn/flatten.js';
import { Linear } from '../nn/linear.js';
import { MaxPool2d } from '../nn/max-pool2d.js';
import { ReLU } from '../nn/relu.js';
import { Sequential } from '../nn/sequential.js';
import { resolveZooOptions, type ZooOptions } from './options.js';

/**
 * LeNet-5 as used today: CONV5-6 (pad 2) -> RELU -> POOL2 -> CONV5-16 -> RELU -> POOL2 ->
 * FC120 -> RELU -> FC84 -> RELU -> FC10 (ReLU and max-pool in place of the original tanh and
 * subsampling). On 28x28x1 it has 61,706 parameters.
 */
export function lenet5(opts: ZooOptions = {}): Sequential {
  const { numClasses, inputSize, inChannels } = resolveZooOptions('lenet5', opts, { numClasses: 10, inputSize: 28, inChannels: 1 });
  const afterConv2 = inputSize / 2 - 4;
  if (inputSize % 4 !== 0 || afterConv2 < 2) {
    throw new ConvkitError(`lenet5: inputSize must be a multiple of 4 and at least 16 (two 2x2 pools and a 5x5 conv), got ${inputSize}`);
  }
  const flat = 16 * (afterConv2 / 2) ** 2;
  return new Sequential(
    new Conv2d(inChannels, 6, 5, { padding: 2 }),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(6, 16, 5),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Linear(flat, 120),
    new ReLU(),
    new Linear(120, 84),
    new ReLU(),
    new Linear(84, numClasses),
  );
}
