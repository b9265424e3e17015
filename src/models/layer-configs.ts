import type { ModuleConfig } from '../nn/module.js';
import type { Conv2dLayerOptions } from '../nn/conv2d.js';
import type { MaxPool2dOptions } from '../ops/max-pool2d.js';
import type { Pair } from '../ops/geometry.js';

/**
 * The plain (Sequential) zoo networks are written as architecture descriptions, the JSON that
 * `getConfig()` returns, and built with `nn.fromConfig`. One description serves both: building
 * the model, and summarizing it without allocating its weights (VGG-16's are 553 MB).
 */

export function conv(inChannels: number, outChannels: number, kernelSize: Pair, opts: Conv2dLayerOptions = {}): ModuleConfig {
  return { type: 'Conv2d', args: [inChannels, outChannels, kernelSize, opts] };
}

export function maxPool(kernelSize: Pair, opts: MaxPool2dOptions = {}): ModuleConfig {
  return { type: 'MaxPool2d', args: [kernelSize, opts] };
}

/** In place, as torchvision's zoo: the summary counts RELU outputs as in place either way. */
export function relu(): ModuleConfig {
  return { type: 'ReLU', args: [{ inplace: true }] };
}

export function linear(inFeatures: number, outFeatures: number): ModuleConfig {
  return { type: 'Linear', args: [inFeatures, outFeatures, {}] };
}

export function dropout(p = 0.5): ModuleConfig {
  return { type: 'Dropout', args: [p] };
}

export function flatten(): ModuleConfig {
  return { type: 'Flatten', args: [{}] };
}

/** AlexNet's local response normalization (size 5, alpha 1e-4, beta 0.75, k 2). */
export function lrn(): ModuleConfig {
  return { type: 'LocalResponseNorm', args: [5, { alpha: 1e-4, beta: 0.75, k: 2 }] };
}

/** Batch norm with PyTorch's defaults (eps 1e-5, momentum 0.1). */
export function batchNorm(numFeatures: number): ModuleConfig {
  return { type: 'BatchNorm2d', args: [numFeatures, {}] };
}

export function globalAvgPool(): ModuleConfig {
  return { type: 'AdaptiveAvgPool2d', args: [1] };
}

export function sequential(layers: ModuleConfig[]): ModuleConfig {
  return { type: 'Sequential', args: layers };
}

/** FC -> RELU -> DROPOUT, twice, then the class scores: the classifier of AlexNet, ZFNet and VGG. */
export function classifier(inFeatures: number, hidden: number, numClasses: number): ModuleConfig[] {
  return [flatten(), linear(inFeatures, hidden), relu(), dropout(), linear(hidden, hidden), relu(), dropout(), linear(hidden, numClasses)];
}
