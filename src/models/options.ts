import { ConvkitError } from '../tensor/errors.js';

/** Options every zoo function accepts where they make sense. */
export interface ZooOptions {
  numClasses?: number;
  /** Input height = width. */
  inputSize?: number;
  inChannels?: number;
}

export function resolveZooOptions(name: string, opts: ZooOptions, defaults: Required<ZooOptions>): Required<ZooOptions> {
  const r = { ...defaults, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as Required<ZooOptions>;
  for (const key of ['numClasses', 'inputSize', 'inChannels'] as const) {
    if (!Number.isInteger(r[key]) || r[key] < 1) throw new ConvkitError(`${name}: ${key} must be a positive integer, got ${r[key]}`);
  }
  return r;
}
