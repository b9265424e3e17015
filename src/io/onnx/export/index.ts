/** ONNX export: `ck.io.exportOnnx` / `ck.io.saveOnnx`, and the hook for custom layers' converters. */
export { exportOnnx, saveOnnx, type ExportOnnxOptions, EXPORT_MIN_OPSET, EXPORT_MAX_OPSET, DEFAULT_EXPORT_OPSET } from './export-onnx.js';
export { registerOnnxConverter, type Converter, type ExportContext, type LayerCall, type Value as OnnxExportValue } from './converter.js';
