import { ConvkitError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from './module.js';

/**
 * Readers of other libraries' state-dict names for `loadStateDict(dict, { from })`, by source
 * name. The zoo registers 'torchvision' (models/index.ts), so that a page using only layers does
 * not download the name map of every torchvision architecture.
 */
export type StateDictReader = (model: Module, state: Map<string, Tensor> | Record<string, Tensor>, opts: { strict?: boolean }) => Map<string, Tensor>;

const readers = new Map<string, StateDictReader>();

export function registerStateDictSource(name: string, reader: StateDictReader): void {
  readers.set(name, reader);
}

/** The reader for `from`; a clear error for a name no module registered. */
export function stateDictReader(from: string): StateDictReader {
  const reader = readers.get(from);
  if (reader) return reader;
  if (from === 'torchvision') {
    throw new ConvkitError("loadStateDict: from 'torchvision' needs convkit's model zoo: import ck.models (or 'convkit/models' paths) before loading");
  }
  throw new ConvkitError(`loadStateDict: unknown from ${JSON.stringify(from)}; the one source of foreign names is 'torchvision'`);
}
