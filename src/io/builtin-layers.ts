/**
 * Every built-in class a saved model may name, registered (each registers itself when its
 * module loads), so that loading rebuilds any architecture even in a bundle whose own code names
 * none of them: bundlers drop modules that nothing uses unless package.json "sideEffects" lists
 * them, and it lists these. The ONNX importer registers OnnxModel itself (see model-file.ts).
 */
import '../nn/index.js';
import '../models/resnet.js';
import '../models/googlenet.js';
