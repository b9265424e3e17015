/**
 * Everything that defines a run: the network (pattern text), the dataset, the seed, the
 * hyperparameters and the backend that trains it. It lives in the page's URL (state/url-state.ts), so a link reproduces a
 * run, and it is what the worker is set up from.
 */

export const OPTIMIZERS = ['sgd', 'adam', 'rmsprop', 'adagrad'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export const DATASETS = ['digits', 'fashion-mnist', 'shapes', 'upload'] as const;
export type DatasetName = (typeof DATASETS)[number];

/**
 * The backends the page offers: WebAssembly (every browser) and WebGPU (where the browser gives
 * an adapter; otherwise the worker falls back to wasm and says why).
 */
export const BACKENDS = ['wasm', 'webgpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** Optimizers whose update runs on the GPU; the others update in JavaScript, on the host only. */
export const DEVICE_OPTIMIZERS: readonly OptimizerName[] = ['sgd', 'adam'];

export interface Hyper {
  optimizer: OptimizerName;
  lr: number;
  momentum: number;
  batchSize: number;
  weightDecay: number;
}

export interface RunConfig {
  net: string;
  dataset: DatasetName;
  seed: number;
  hyper: Hyper;
  backend: BackendName;
}

/** Per-item input [C, H, W] and class count of each dataset (uploads are IDX, like MNIST). */
export const DATASET_SHAPES: Record<DatasetName, { input: [number, number, number]; classes: number }> = {
  digits: { input: [1, 28, 28], classes: 10 },
  'fashion-mnist': { input: [1, 28, 28], classes: 10 },
  shapes: { input: [3, 32, 32], classes: 4 },
  upload: { input: [1, 28, 28], classes: 10 },
};

export const LENET5 = 'INPUT[28x28x1] -> CONV5-6 -> RELU -> POOL2 -> CONV5-16p0 -> RELU -> POOL2 -> FC120 -> RELU -> FC84 -> RELU -> FC10';

/** A network offered in the editor's menu; with a dataset, picking it switches to that dataset. */
export interface Preset {
  name: string;
  net: string;
  dataset?: DatasetName;
}

export const PRESETS: Preset[] = [
  { name: 'the notes’ pattern', net: 'INPUT[28x28x1] -> [[CONV3-8 -> RELU]*2 -> POOL2]*2 -> FC10' },
  { name: 'LeNet-5', net: LENET5 },
  { name: 'small ConvNet for colour shapes', net: 'INPUT[32x32x3] -> [CONV3-8 -> RELU -> POOL2]*2 -> CONV3-16 -> RELU -> POOL2 -> FC4', dataset: 'shapes' },
  { name: 'one FC layer (a linear classifier)', net: 'INPUT[28x28x1] -> FC10' },
];

export const DEFAULT_RUN: RunConfig = {
  net: PRESETS[0]!.net,
  dataset: 'digits',
  seed: 1,
  hyper: { optimizer: 'sgd', lr: 0.01, momentum: 0.9, batchSize: 32, weightDecay: 0.0005 },
  backend: 'wasm',
};

/** Clamps hyperparameters to what the optimizers accept; returns what was wrong, if anything. */
export function checkHyper(h: Hyper): string | null {
  if (!(h.lr > 0 && h.lr < 10)) return `learning rate must be in (0, 10), got ${h.lr}`;
  if (!(h.momentum >= 0 && h.momentum < 1)) return `momentum must be in [0, 1), got ${h.momentum}`;
  if (!Number.isInteger(h.batchSize) || h.batchSize < 1 || h.batchSize > 1024) return `batch size must be a whole number in 1..1024, got ${h.batchSize}`;
  if (!(h.weightDecay >= 0 && h.weightDecay < 1)) return `weight decay must be in [0, 1), got ${h.weightDecay}`;
  return null;
}

/** Whether the optimizer runs on the backend; null when it does, else what to pick instead. */
export function checkOptimizerOn(optimizer: OptimizerName, backend: string): string | null {
  if (backend !== 'webgpu' || DEVICE_OPTIMIZERS.includes(optimizer)) return null;
  return `${optimizer === 'rmsprop' ? 'RMSprop' : 'Adagrad'} updates the weights in JavaScript, which cannot reach them on the GPU: pick SGD or Adam for webgpu, or the wasm backend`;
}
