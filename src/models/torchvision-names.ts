import type { Module } from '../nn/module.js';
import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * torchvision's state-dict names -> convkit's, for `model.loadStateDict(dict, { from: 'torchvision' })`.
 *
 * No layout changes are needed: convkit stores CONV weights [K, C, F, F] and FC weights
 * [out, in] as PyTorch does, and its Flatten reads NCHW in PyTorch's order, so the first FC
 * after the last pool sees the same features. Only names differ:
 * - ResNet and GoogLeNet are built with torchvision's child names: keys are the same, except
 *   GoogLeNet's auxiliary classifiers (`aux1.*`, `aux2.*`; convkit builds none), which are dropped.
 * - AlexNet and VGG are one flat Sequential here: torchvision's `features.i` is layer i, and its
 *   `classifier.j` is layer F + 1 + j, F being the Flatten's index (torchvision flattens in
 *   forward()). Holds for the zoo's vgg11 ... vgg19, vgg11bn ... vgg19bn and alexnetTorchvision.
 * - `num_batches_tracked` is copied when given, and never required (many exported files lack it).
 *
 * This file must not import nn/module.ts at run time (module.ts calls it): it reads the model
 * through its methods only.
 */

/** Where `loadStateDict` may take foreign names from. */
export type StateDictSource = 'torchvision';

/** torchvision's model names -> the convkit zoo entry with the same architecture and key mapping. */
export const TORCHVISION_ZOO_NAMES: Readonly<Record<string, string>> = {
  alexnet: 'alexnetTorchvision',
  vgg11: 'vgg11',
  vgg11_bn: 'vgg11bn',
  vgg13: 'vgg13',
  vgg13_bn: 'vgg13bn',
  vgg16: 'vgg16',
  vgg16_bn: 'vgg16bn',
  vgg19: 'vgg19',
  vgg19_bn: 'vgg19bn',
  googlenet: 'googlenet',
  resnet18: 'resnet18',
  resnet34: 'resnet34',
  resnet50: 'resnet50',
};

interface NameMap {
  /** convkit's name of a torchvision key; null: dropped on purpose; undefined: no counterpart. */
  toOwn(key: string): string | null | undefined;
  /** torchvision's name of a convkit key (for the error listing what is missing). */
  toTheirs(key: string): string;
  what: string;
}

const NBT = 'num_batches_tracked';
const isNbt = (key: string): boolean => key === NBT || key.endsWith(`.${NBT}`);

function nameMap(model: Module): NameMap {
  const type = model.typeName;
  if (type === 'ResNet') return { toOwn: (k) => k, toTheirs: (k) => k, what: 'ResNet' };
  if (type === 'GoogLeNet') return { toOwn: (k) => (/^aux[12]\./.test(k) ? null : k), toTheirs: (k) => k, what: 'GoogLeNet' };
  if (type === 'Sequential') {
    const layers = model.children();
    const f = layers.findIndex((m) => m.typeName === 'Flatten');
    if (f < 0) {
      throw new ConvkitError(
        "loadStateDict from 'torchvision': this Sequential has no Flatten, so it is not laid out as torchvision's AlexNet or VGG (features, then classifier); " +
          'use the zoo models alexnetTorchvision, vgg11 ... vgg19 or vgg11bn ... vgg19bn',
      );
    }
    return {
      toOwn(k) {
        const m = /^(features|classifier)\.(\d+)\.(.+)$/.exec(k);
        if (!m) return undefined;
        const i = Number(m[2]);
        if (m[1] === 'features') return i < f ? `${i}.${m[3]}` : undefined;
        return `${f + 1 + i}.${m[3]}`;
      },
      toTheirs(k) {
        const m = /^(\d+)\.(.+)$/.exec(k);
        if (!m) return k;
        const i = Number(m[1]);
        return i < f ? `features.${i}.${m[2]}` : `classifier.${i - f - 1}.${m[2]}`;
      },
      what: 'AlexNet / VGG',
    };
  }
  throw new ConvkitError(
    `loadStateDict from 'torchvision': a ${type} has no torchvision counterpart; torchvision names load into the zoo's ` +
      `${[...new Set(Object.values(TORCHVISION_ZOO_NAMES))].join(', ')}`,
  );
}

/**
 * `state` (torchvision's names) in convkit's names for `model`, after checking it all:
 * unmatched, missing and mis-shaped keys are listed in one ConvkitError under both names.
 * With `strict: false`, unmatched and missing keys are let through (shapes are still checked).
 */
export function torchvisionStateDict(model: Module, state: Map<string, Tensor> | Record<string, Tensor>, opts: { strict?: boolean } = {}): Map<string, Tensor> {
  const strict = opts.strict ?? true;
  const given = state instanceof Map ? state : new Map(Object.entries(state));
  const own = model.stateDict();
  const map = nameMap(model);
  const out = new Map<string, Tensor>();
  const unexpected: string[] = [];
  const problems: string[] = [];
  const reached = new Set<string>();
  for (const [key, t] of given) {
    const mine = map.toOwn(key);
    if (mine === null) continue;
    const target = mine === undefined ? undefined : own.get(mine);
    if (mine === undefined || !target) {
      // A buffer convkit does not keep (a BN built without running statistics) is not an error.
      if (!isNbt(key)) unexpected.push(mine && mine !== key ? `${key} (as ${mine})` : key);
      continue;
    }
    reached.add(mine);
    const both = mine === key ? key : `${key} (convkit ${mine})`;
    if (!(t instanceof Tensor)) {
      problems.push(`${both}: expected a Tensor, got ${Array.isArray(t) ? 'an array' : t === null ? 'null' : typeof t}`);
      continue;
    }
    if (t.shape.join() !== target.shape.join()) {
      problems.push(`${both}: expected shape ${fmtShape(target.shape)}, got ${fmtShape(t.shape)}`);
      continue;
    }
    out.set(mine, t);
  }
  const missing = [...own.keys()].filter((k) => !reached.has(k) && !isNbt(k));
  // The counter stays as it is where the file has none.
  for (const [k, t] of own) if (isNbt(k) && !out.has(k)) out.set(k, t);
  if (strict && missing.length) problems.unshift(`missing keys: ${missing.map((k) => (map.toTheirs(k) === k ? k : `${map.toTheirs(k)} (convkit ${k})`)).join(', ')}`);
  if (strict && unexpected.length) problems.unshift(`unexpected keys: ${unexpected.join(', ')}`);
  if (problems.length) {
    const lrn = model.children().some((m) => m.typeName === 'LocalResponseNorm');
    const hint =
      lrn && given.has('features.10.weight')
        ? "; torchvision's AlexNet (64/192/384/256/256 filters, no LRN) is the zoo's alexnetTorchvision, not alexnet (the paper's, with LRN)"
        : '';
    throw new ConvkitError(`loadStateDict from 'torchvision' into ${map.what}: ${problems.join('; ')}${hint}`);
  }
  return out;
}
