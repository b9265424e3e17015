/**
 * The messages between the page and the training worker. Big arrays travel as Float32Array /
 * Uint8Array whose buffers are transferred (not copied); everything else is plain JSON-like
 * data. The worker pushes `stats` (cheap, ~10/s), `snapshot` (views of one example, a few per
 * second) and `eval` (validation, every few seconds); requests carry an id for their reply.
 */
import type { BackendName, Hyper, RunConfig } from './run-config.js';

export interface ModuleConfigJson {
  type: string;
  args: unknown[];
}

/** A network checked on the page: the pattern, its built description and its input. */
export interface NetSpec {
  pattern: string;
  config: ModuleConfigJson;
  /** Per-item input [C, H, W]. */
  input: [number, number, number];
  /** Pattern label of each layer of the Sequential, by index (CONV3-8, RELU, ...). */
  labels: string[];
}

/** An IDX dataset uploaded on the page: the four files' bytes (raw or gzipped). */
export interface UploadedIdx {
  trainImages: Uint8Array;
  trainLabels: Uint8Array;
  testImages: Uint8Array;
  testLabels: Uint8Array;
}

export type ToWorker =
  | { type: 'setup'; run: RunConfig; net: NetSpec; dataBase: string; upload?: UploadedIdx }
  | { type: 'run' }
  | { type: 'pause' }
  | { type: 'step' }
  | { type: 'hyper'; hyper: Hyper }
  | { type: 'select'; index: number }
  | { type: 'predict'; id: number; pixels: Float32Array }
  | { type: 'images'; id: number; indices: number[] }
  | { type: 'save'; id: number }
  | { type: 'export-onnx'; id: number }
  | { type: 'load'; id: number; bytes: Uint8Array; name: string };

export interface DatasetInfo {
  name: string;
  classes: string[];
  /** Per-item [C, H, W]. */
  shape: [number, number, number];
  train: number;
  test: number;
}

export interface BackendInfo {
  name: string;
  /** Threads the kernels may use (1 without cross-origin isolation; 1 on webgpu, whose kernels run on the GPU). */
  threads: number;
  isolated: boolean;
  /** The backend the run asked for. */
  requested: BackendName;
  /** The GPU adapter (vendor, architecture, description) on webgpu. */
  adapter?: string;
  /** Why the requested backend is not the one running (e.g. no WebGPU adapter). */
  fallback?: string;
}

/** What the worker found out about WebGPU at start: the adapter's name, or why there is none. */
export interface WebgpuProbe {
  adapter: string | null;
  problem: string | null;
}

export interface CurvePoint {
  step: number;
  loss: number;
  accuracy: number;
}

export interface TrainStats {
  step: number;
  epoch: number;
  /** Images seen in the current epoch / epoch size. */
  epochProgress: number;
  running: boolean;
  /** Training images per second over the last second of steps (views excluded). */
  imagesPerSecond: number;
  /** The same over wall-clock time, views and validation included. */
  wallImagesPerSecond: number;
  /**
   * Milliseconds of the last step's forward + loss and backward + update; null on webgpu, where a
   * step only queues GPU work (its time shows in imagesPerSecond, measured when results come back).
   */
  forwardMs: number | null;
  backwardMs: number | null;
  /** Training curve points since the last stats message (averaged over a few steps each). */
  points: CurvePoint[];
}

export interface Histogram {
  min: number;
  max: number;
  counts: number[];
  nan: number;
  inf: number;
  /** Finite values counted. */
  count: number;
}

export interface LayerActivation {
  /** Index of the layer in the Sequential. */
  index: number;
  label: string;
  /** Per-item shape: [C, H, W] or [F]. */
  shape: number[];
  data: Float32Array;
}

export interface ConvFilters {
  index: number;
  label: string;
  /** [K, C, F, F]. */
  shape: [number, number, number, number];
  weight: Float32Array;
  grad: Float32Array | null;
}

export interface ParamHistogram {
  /** State-dict name, e.g. `0.weight`. */
  name: string;
  weights: Histogram;
  grads: Histogram | null;
}

export interface Prediction {
  classIndex: number;
  probability: number;
}

/** What the views of one example and of the parameters show, taken at one step. */
export interface Snapshot {
  step: number;
  example: { index: number; label: number; pixels: Float32Array };
  activations: LayerActivation[];
  filters: ConvFilters[];
  histograms: ParamHistogram[];
  /** |d score / d input|, max over channels, [H * W]. */
  saliency: Float32Array;
  /** The class whose score the saliency map differentiates (the predicted one). */
  saliencyClass: number;
  probabilities: Float32Array;
}

export interface WorstExample {
  index: number;
  label: number;
  predicted: number;
  /** Probability given to the true class. */
  probability: number;
  pixels: Float32Array;
}

export interface EvalResult {
  step: number;
  count: number;
  loss: number;
  accuracy: number;
  /** count x count-of-classes matrix, row = true class, column = predicted. */
  confusion: Int32Array;
  /** The predicted class of every evaluated example (index = test-set index). */
  predicted: Int32Array;
  labels: Int32Array;
  worst: WorstExample[];
}

export type FromWorker =
  | { type: 'backends'; webgpu: WebgpuProbe }
  | { type: 'ready'; dataset: DatasetInfo; backend: BackendInfo; params: number }
  | { type: 'stats'; stats: TrainStats }
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'eval'; result: EvalResult }
  | { type: 'predicted'; id: number; probabilities: Float32Array }
  | { type: 'images'; id: number; pixels: Float32Array[]; labels: number[] }
  | { type: 'file'; id: number; bytes: Uint8Array; name: string }
  | { type: 'loaded'; id: number; net: NetSpec }
  | { type: 'failed'; id: number | null; message: string };
