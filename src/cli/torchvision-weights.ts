import { closeSync, openSync, readSync } from 'node:fs';
import { loadSafetensors } from '../io/safetensors.js';
import { loadTorch } from '../io/torch/load-torch.js';
import type { ModelMetadata } from '../io/model-file.js';
import { IMAGENET_CLASSES, IMAGENET_MEAN, IMAGENET_STD } from '../data/imagenet.js';
import { createModel } from '../models/index.js';
import { TORCHVISION_ZOO_NAMES } from '../models/torchvision-names.js';
import { ConvkitError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { LoadedModelArg } from './model-loader.js';

/**
 * `--model resnet18 --weights resnet18.pth`: a zoo model torchvision also has, with weights
 * from a PyTorch state dict (.pth / .pt, or .safetensors) under torchvision's names. The
 * classes are read off the last FC (a fine-tuned file may have fewer than 1,000); with 1,000
 * they are ImageNet's, named. The metadata asks predict for torchvision's ImageNet
 * preprocessing (data/imagenet.ts).
 */

/** The last FC's weight in torchvision's names: its first dimension is the number of classes. */
const LAST_FC: Record<string, string> = { resnet: 'fc.weight', googlenet: 'fc.weight', vgg: 'classifier.6.weight', alexnet: 'classifier.6.weight' };

export function torchvisionZooName(name: string): string {
  const zooName = TORCHVISION_ZOO_NAMES[name] ?? (Object.values(TORCHVISION_ZOO_NAMES).includes(name) ? name : undefined);
  if (!zooName) throw new ConvkitError(`--model ${name}: torchvision weights load into ${Object.keys(TORCHVISION_ZOO_NAMES).join(', ')} (torchvision's names)`);
  return zooName;
}

/** A state dict file's tensors: a PyTorch zip (.pth / .pt) by its signature, else safetensors. */
export async function readStateDictFile(file: string): Promise<Map<string, Tensor>> {
  const head = new Uint8Array(16);
  let n: number;
  try {
    const fd = openSync(file, 'r');
    n = readSync(fd, head, 0, 16, 0);
    closeSync(fd);
  } catch (e) {
    throw new ConvkitError(`--weights ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (n >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return loadTorch(file);
  // safetensors: an 8-byte header length, then the JSON header.
  if (file.toLowerCase().endsWith('.safetensors') || (n > 8 && head[8] === 0x7b)) return (await loadSafetensors(file)).tensors;
  throw new ConvkitError(`--weights ${file}: neither a PyTorch state dict (.pth / .pt, a zip file) nor a .safetensors file`);
}

export async function loadTorchvisionModel(name: string, weights: string): Promise<LoadedModelArg> {
  const zooName = torchvisionZooName(name);
  const state = await readStateDictFile(weights);
  const family = Object.keys(LAST_FC).find((f) => zooName.startsWith(f))!;
  const numClasses = state.get(LAST_FC[family]!)?.shape[0];
  const model = createModel(zooName, numClasses ? { numClasses } : {});
  try {
    model.loadStateDict(state, { from: 'torchvision' });
  } catch (e) {
    if (e instanceof ConvkitError) throw new ConvkitError(`${weights} does not fit --model ${name}: ${e.message}`);
    throw e;
  }
  model.eval();
  // torchvision's pretrained GoogLeNet runs with transform_input=True, which turns ImageNet-
  // standardized inputs into (x - 0.5) / 0.5: the same as standardizing with mean = std = 0.5.
  const googlenet = zooName === 'googlenet';
  const metadata: ModelMetadata = {
    inputShape: [3, 224, 224],
    ...(numClasses === 1000 ? { classNames: [...IMAGENET_CLASSES] } : {}),
    imagenetPreprocess: { mean: googlenet ? [0.5, 0.5, 0.5] : [...IMAGENET_MEAN], std: googlenet ? [0.5, 0.5, 0.5] : [...IMAGENET_STD] },
  };
  return { model, metadata, kind: 'torchvision' };
}
