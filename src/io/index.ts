/** `ck.io`: convkit's own model files (and, alongside, ONNX import/export). */
export { save, load, loadWithMetadata } from './save-load.js';
export type { ModelSource } from './source.js';
export { serializeModel, deserializeModel, type ModelMetadata, type LoadedModel } from './model-file.js';
export { writeContainer, readContainer, type ContainerContents, type StoredArray } from './container.js';
export { loadOnnx, loadOnnxBytes, readOnnxTensor, OnnxModel, supportedOperators as onnxOperators, type LoadOnnxOptions } from './onnx/index.js';
export { exportOnnx, saveOnnx, registerOnnxConverter, type ExportOnnxOptions } from './onnx/export/index.js';
export {
  loadSafetensors,
  decodeSafetensors,
  encodeSafetensors,
  saveSafetensors,
  type SafetensorsFile,
  type SafetensorsWriteOptions,
  type TensorDict,
} from './safetensors.js';
export { loadTorch, loadTorchCheckpoint, type LoadTorchOptions, type TorchValue } from './torch/load-torch.js';
export { exportPyTorch, registerPyTorchLayer, type ExportPyTorchOptions, type PyTorchExport, type LayerCode, type LayerCoder } from './pytorch/index.js';
