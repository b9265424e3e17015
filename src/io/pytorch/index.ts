export { exportPyTorch, type ExportPyTorchOptions, type PyTorchExport } from './export-pytorch.js';
export { registerPyTorchLayer, type LayerCode, type LayerCoder } from './layer-code.js';
export type { TrainSettings } from './train-code.js';
