import { readBytes } from '../io/files.js';
import { decodeSafetensors } from '../io/safetensors.js';
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

/** A state dict file's tensors: safetensors by its header, else a PyTorch zip (.pth / .pt). */
export async function readStateDictFile(file: string): Promise<Map<string, Tensor>> {
  const bytes = await readBytes(file);
  const zip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  if (zip) {
    // The restricted .pth reader comes with the io/torch module.
    const io = (await import('../io/index.js')) as Record<string, unknown>;
    const loadTorch = io['loadTorch'] as ((b: Uint8Array) => Promise<Map<string, Tensor>>) | undefined;
    if (!loadTorch) throw new ConvkitError(`${file}: reading PyTorch .pth files is not available in this build; convert it to .safetensors`);
    return loadTorch(bytes);
  }
  if (file.toLowerCase().endsWith('.safetensors') || (bytes.length > 9 && bytes[8] === 0x7b)) return decodeSafetensors(bytes, file).tensors;
  throw new ConvkitError(`${file}: neither a PyTorch state dict (.pth / .pt, a zip file) nor a .safetensors file`);
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
