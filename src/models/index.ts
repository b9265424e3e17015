/** `ck.models`: the zoo. Every function takes {numClasses, inputSize, inChannels} where it makes sense. */
import type { Module } from '../nn/module.js';
import { ConvkitError } from '../tensor/errors.js';
import { cifarDemo } from './cifar-demo.js';
import { lenet5 } from './lenet5.js';
import type { ZooOptions } from './options.js';

export { lenet5, cifarDemo };
export type { ZooOptions };

/** Zoo entries by the names the CLI accepts (kebab-case aliases included). */
export const zoo: Record<string, (opts?: ZooOptions) => Module> = {
  lenet5,
  cifarDemo,
  'cifar-demo': cifarDemo,
};

/** Default input [C, H, W] of each zoo entry. */
export const zooInputShapes: Record<string, [number, number, number]> = {
  lenet5: [1, 28, 28],
  cifarDemo: [3, 32, 32],
  'cifar-demo': [3, 32, 32],
};

export function createModel(name: string, opts: ZooOptions = {}): Module {
  const make = zoo[name];
  if (!make) throw new ConvkitError(`unknown model '${name}'; the zoo has: ${Object.keys(zoo).join(', ')}`);
  return make(opts);
}
