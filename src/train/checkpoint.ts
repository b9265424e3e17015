import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import type { Module, ModuleConfig } from '../nn/module.js';
import { readContainer, writeContainer, type StoredArray } from '../io/container.js';
import { packTree, unpackTree } from '../io/array-tree.js';

/**
 * Everything needed to continue training exactly where it stopped: weights, optimizer and
 * schedule state, random generator states, the epoch reached and the history so far.
 */
export interface TrainingState {
  epoch: number;
  architecture: ModuleConfig | null;
  model: Map<string, Tensor>;
  optimizer: unknown;
  scheduler: unknown;
  generators: number[][];
  history: unknown[];
  /** Early stopping's best value and patience counter, and any caller data. */
  extra: Record<string, unknown>;
}

/** The bytes of a checkpoint file holding a training state. */
export function serializeCheckpoint(state: TrainingState): Uint8Array {
  const arrays = new Map<string, StoredArray>();
  const tensors: { name: string; shape: number[] }[] = [];
  for (const [name, t] of state.model) {
    const v = t.values();
    arrays.set(`model/${name}`, v instanceof Float32Array ? v.slice() : Int32Array.from(v));
    tensors.push({ name, shape: [...t.shape] });
  }
  const json = {
    epoch: state.epoch,
    architecture: state.architecture,
    tensors,
    optimizer: packTree(state.optimizer, 'optimizer', arrays),
    scheduler: packTree(state.scheduler, 'scheduler', arrays),
    generators: packTree(state.generators, 'rng', arrays),
    history: packTree(state.history, 'history', arrays),
    extra: packTree(state.extra, 'extra', arrays),
  };
  return writeContainer({ kind: 'checkpoint', json, arrays });
}

/** Reads a checkpoint file's bytes back into a training state; `source` names it in errors. */
export function deserializeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): TrainingState {
  const { json, arrays } = readContainer(bytes, 'checkpoint', source);
  const j = json as Record<string, unknown>;
  if (typeof j?.['epoch'] !== 'number' || !Array.isArray(j['tensors'])) {
    throw new ConvkitError(`${source}: the checkpoint description is incomplete`);
  }
  const model = new Map<string, Tensor>();
  for (const { name, shape } of j['tensors'] as { name: string; shape: number[] }[]) {
    const data = arrays.get(`model/${name}`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (!data || data.length !== n || data instanceof Uint8Array) {
      throw new ConvkitError(`${source}: tensor '${name}' ${fmtShape(shape)} is missing or the wrong size`);
    }
    model.set(name, new Tensor(data, shape));
  }
  return {
    epoch: j['epoch'] as number,
    architecture: (j['architecture'] as ModuleConfig | null) ?? null,
    model,
    optimizer: unpackTree(j['optimizer'], arrays, source),
    scheduler: unpackTree(j['scheduler'], arrays, source),
    generators: unpackTree(j['generators'], arrays, source) as number[][],
    history: unpackTree(j['history'], arrays, source) as unknown[],
    extra: (unpackTree(j['extra'], arrays, source) as Record<string, unknown>) ?? {},
  };
}

/** The model's architecture if it can describe itself (zoo and built-in layers can). */
export function architectureOf(model: Module): ModuleConfig | null {
  try {
    return model.getConfig();
  } catch {
    return null;
  }
}
