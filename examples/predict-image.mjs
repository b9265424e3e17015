// Classify one image with a saved model (from examples/train-folder.mjs or `convkit train`):
//
//   node examples/predict-image.mjs model.convkit photo.jpg [--top 3]
//
// The model file's metadata says how to preprocess (its input pipeline, or its input shape)
// and names the classes.
import { parseArgs } from 'node:util';
import * as ck from 'convkit/node';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '3' } } });
const [modelPath, imagePath] = positionals;
if (!modelPath || !imagePath) {
  console.error('usage: node examples/predict-image.mjs <model.convkit> <image> [--top K]');
  process.exit(2);
}

const { model, metadata } = await ck.io.loadWithMetadata(modelPath); // in eval mode
const img = await ck.data.image.decodeImage(imagePath); // [C, H, W] in [0, 1]
const [c, h, w] = metadata.inputShape ?? [];
const pipeline = metadata.inputPipeline
  ? ck.data.image.InputPipeline.fromJSON(metadata.inputPipeline)
  : new ck.data.image.InputPipeline({ size: [h, w], channels: c, aspect: 'crop' });
const x = pipeline.apply(img);

const probs = ck.noGrad(() => ck.F.softmax(model.forward(x.view(1, ...x.shape)), 1));
const { values: p, indices } = ck.topk(probs, Math.min(Number(values.top), probs.shape[1]), 1);
const classes = metadata.classes ?? [];
const ps = p.values();
const is = indices.values();
for (let k = 0; k < ps.length; k++) console.log(`${classes[is[k]] ?? `class ${is[k]}`}: ${(100 * ps[k]).toFixed(1)}%`);
