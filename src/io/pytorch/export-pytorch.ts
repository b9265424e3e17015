import type { Module } from '../../nn/module.js';
import { ConvkitError } from '../../tensor/errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { encodeSafetensors } from '../safetensors.js';
import { modelSource } from './model-code.js';
import { DEFAULT_TRAIN_SETTINGS, trainSource, type TrainSettings } from './train-code.js';

/**
 * `ck.io.exportPyTorch(model, opts)`: the model as PyTorch code and weights, in memory (works in
 * the browser): model.py (an editable torch.nn.Module with convkit's parameter names),
 * train.py (the same training under torchrun with DistributedDataParallel) and
 * weights.safetensors (the state dict, float32, convkit's names). The CLI's
 * `convkit export model.convkit out/ --format pytorch` writes these files into a folder.
 */

export interface ExportPyTorchOptions {
  /** One item's input [C, H, W] (or [F]); written as INPUT_SHAPE and used for the shape comments. */
  inputShape?: readonly number[];
  /** What the model is, for the docstrings (default: the model's description). */
  title?: string;
  classNames?: readonly string[];
  /** train.py's settings; what is left out takes convkit train's defaults. */
  training?: Partial<TrainSettings>;
  /** String metadata stored in weights.safetensors (e.g. the convkit metadata as JSON). */
  metadata?: Record<string, string>;
}

/** What `exportPyTorch` produces: the files of the export folder and the weights in them. */
export interface PyTorchExport {
  /** File name -> contents: model.py, train.py (text) and weights.safetensors (bytes). */
  files: Map<string, string | Uint8Array>;
  /** The exported state dict (live tensors of the model), by name. */
  weights: Map<string, Tensor>;
}

const KNOWN = ['inputShape', 'title', 'classNames', 'training', 'metadata'];

/**
 * The model as PyTorch code: model.py (an editable torch.nn.Module with convkit's state-dict
 * names), weights.safetensors and train.py (the same training under torchrun). Modules it cannot
 * write (an imported ONNX graph, a custom module without traceGraph) are a ConvkitError.
 */
export function exportPyTorch(model: Module, opts: ExportPyTorchOptions = {}): PyTorchExport {
  if (opts === null || typeof opts !== 'object') throw new ConvkitError(`exportPyTorch: options must be an object, got ${String(opts)}`);
  const unknown = Object.keys(opts).filter((k) => !KNOWN.includes(k));
  if (unknown.length) throw new ConvkitError(`exportPyTorch: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${KNOWN.join(', ')}`);
  const s = opts.inputShape;
  if (s !== undefined && (!Array.isArray(s) || s.length === 0 || s.some((d) => !Number.isInteger(d) || d < 1))) {
    throw new ConvkitError(`exportPyTorch: inputShape must be one item's shape such as [3, 224, 224] (C, H, W), got ${JSON.stringify(s)}`);
  }
  const title = opts.title ?? model.describe();
  const { source } = modelSource(model, { title, ...(s ? { inputShape: s } : {}), ...(opts.classNames ? { classNames: opts.classNames } : {}) });
  const settings: TrainSettings = {
    ...DEFAULT_TRAIN_SETTINGS,
    data: null,
    dataNote: 'give --data: a folder of IDX files, CIFAR-10 batches or class sub-folders',
    normalization: null,
    source: "convkit train's defaults",
    ...opts.training,
  };
  const weights = model.stateDict();
  const files = new Map<string, string | Uint8Array>([
    ['model.py', source],
    ['train.py', trainSource(title, settings)],
    ['weights.safetensors', encodeSafetensors(weights, opts.metadata ?? {})],
  ]);
  return { files, weights };
}
