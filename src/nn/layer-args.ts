import { ConvkitError } from '../tensor/errors.js';
import { positiveInt } from '../ops/conv-args.js';

/** The `bias` option of CONV and FC layers: true (default) or false. */
export function biasFlag(bias: unknown, op: string): boolean {
  if (bias !== undefined && typeof bias !== 'boolean') {
    throw new ConvkitError(`${op}: bias must be true or false, got ${JSON.stringify(bias)}`);
  }
  return bias !== false;
}

/** The `groups` option of a convolution layer: a positive integer dividing both channel counts. */
export function layerGroups(groups: unknown, inChannels: number, outChannels: number, op: string): number {
  const g = positiveInt(groups ?? 1, op, 'groups');
  if (inChannels % g !== 0 || outChannels % g !== 0) {
    throw new ConvkitError(`${op}: groups ${g} must divide both inChannels (${inChannels}) and outChannels (${outChannels}); pick a common divisor`);
  }
  return g;
}
