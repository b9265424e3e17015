/** The ONNX importer: `ck.io.loadOnnx(pathOrBytes)` and the pieces it is made of. */
export { loadOnnx, loadOnnxBytes, readOnnxTensor, type LoadOnnxOptions } from './load-onnx.js';
export { OnnxModel } from './onnx-model.js';
export { supportedOperators } from './operators/index.js';
export type { ExternalDataReader } from './tensor-proto.js';
