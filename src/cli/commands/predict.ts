import type { Command } from 'commander';
import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { noGrad } from '../../autograd/tape.js';
import { tidy } from '../../tensor/scope.js';
import * as F from '../../functional.js';
import type { Module } from '../../nn/module.js';
import { loadWithMetadata } from '../../io/save-load.js';
import { loadOnnx } from '../../io/onnx/load-onnx.js';
import { averageScoreGrid } from '../../analysis/fc-to-conv.js';
import { volumeFromMetadata } from './volume-arg.js';
import type { ModelMetadata } from '../../io/model-file.js';
import { decodeImageFile } from '../../data/image/decode.js';
import { preprocessImage, InputPipeline, type InputPipelineJson } from '../../data/image/preprocess.js';
import { normalizeBuffer } from '../../data/image/normalize.js';
import { savedNormalization } from '../input-normalization.js';
import type { ImageBuffer } from '../../data/image/image-buffer.js';
import { action, positiveInt } from '../run.js';

interface PredictFlags {
  top: number;
  json?: boolean;
  input?: string;
  dense?: boolean;
}

export interface Prediction {
  file: string;
  top: { index: number; label: string; probability: number }[];
}

export function registerPredict(program: Command): void {
  program
    .command('predict <model> <images...>')
    .description('the most likely classes of images (PNG, JPEG, WebP, ...) with their probabilities')
    .option('--top <k>', 'how many classes to show', positiveInt('--top'), 5)
    .option('--json', 'one JSON object per image')
    .option('--input <WxHxC>', "the model's input volume, when the file does not record it (e.g. an .onnx file with symbolic sizes)")
    .option('--dense', 'for a fully convolutional model (convkit convert-fc): keep the image at its own size, slide the net over it and average the grid of class scores')
    .addHelpText(
      'after',
      "\nEach image is converted to the model's input: to its channels (grayscale or RGB), center-cropped\n" +
        "to its aspect ratio, resized to its size, then normalized as in training (the model file's metadata).",
    )
    .action(
      action(async (file: string, images: string[], flags: PredictFlags) => {
        const { model, metadata } = await loadModelForPrediction(file, flags.input);
        if (flags.dense && metadata['fullyConvolutional'] !== true) {
          throw new ConvkitError(`--dense needs a fully convolutional model; make one with: convkit convert-fc ${file} <out>`);
        }
        const toInput = inputMaker(file, metadata, flags.dense ?? false);
        for (const image of images) {
          const decoded = await decodeImageFile(image);
          const p = predictOne(model, toInput(decoded, image), metadata, flags.top, image, flags.dense ?? false);
          if (flags.json) process.stdout.write(`${JSON.stringify(p)}\n`);
          else {
            process.stdout.write(`${image}\n`);
            for (const t of p.top) process.stdout.write(`  ${(t.probability * 100).toFixed(2).padStart(6)}%  ${t.label}\n`);
          }
        }
      }),
    );
}

/**
 * How a decoded picture becomes this model's input [C, H, W]: the saved input pipeline when
 * training recorded one, else the input shape (channels, center crop to its aspect, resize)
 * followed by the saved normalization.
 */
function inputMaker(file: string, metadata: ModelMetadata, dense: boolean): (img: ImageBuffer, name: string) => ImageBuffer {
  const pipelineJson = metadata['inputPipeline'] as InputPipelineJson | undefined;
  if (pipelineJson && !dense) {
    const pipeline = InputPipeline.fromJSON(pipelineJson);
    return (img) => pipeline.applyBuffer(img);
  }
  const shape = metadata.inputShape;
  if (!shape || shape.length !== 3) {
    throw new ConvkitError(`${file}: the model file does not say its input shape (metadata.inputShape [C, H, W]), so images cannot be converted for it`);
  }
  const [c, h, w] = shape as [number, number, number];
  if (c !== 1 && c !== 3 && c !== 4) throw new ConvkitError(`${file}: expects ${c}-channel inputs ${fmtShape(shape)}; images convert to 1 (gray), 3 (RGB) or 4 (RGBA) channels`);
  const normalization = savedNormalization(metadata);
  return (img) => {
    // Dense prediction slides the net over the whole picture: keep its size, rounded down to
    // the training size plus whole strides (convert-fc records the stride) so the grid fits.
    const [sh, sw] = (metadata['totalStride'] as [number, number] | undefined) ?? [1, 1];
    const fit = (n: number, base: number, s: number) => base + Math.max(0, Math.floor((n - base) / s)) * s;
    const size: [number, number] = dense ? [fit(img.height, h, sh), fit(img.width, w, sw)] : [h, w];
    const x = preprocessImage(img, { channels: c, size, aspect: dense ? 'stretch' : 'crop' });
    return normalization ? normalizeBuffer(x, normalization) : x;
  };
}

/** A convkit model file, or an .onnx file whose input volume comes from the graph or --input. */
async function loadModelForPrediction(file: string, input: string | undefined): Promise<{ model: Module; metadata: ModelMetadata }> {
  if (!file.endsWith('.onnx')) return loadWithMetadata(file);
  const model = await loadOnnx(file);
  const dims = model.inputDims[0];
  const declared = dims && dims.length === 4 && dims.slice(1).every((d) => d !== null) ? (dims.slice(1) as number[]) : undefined;
  return { model, metadata: { inputShape: volumeFromMetadata(file, input, declared) } };
}

export function predictOne(model: Module, x: ImageBuffer, metadata: ModelMetadata, k: number, file: string, dense = false): Prediction {
  const probs = noGrad(() =>
    tidy(() => {
      const input = new Tensor(x.data, [1, x.channels, x.height, x.width]);
      let out = model.forward(input);
      if (dense) {
        if (out.ndim !== 4) throw new ConvkitError(`--dense needs a fully convolutional model (convkit convert-fc) whose output is a grid [1, classes, h, w]; this one gives ${fmtShape(out.shape)}`);
        out = averageScoreGrid(out);
      }
      if (out.ndim !== 2) throw new ConvkitError(`the model's output is ${fmtShape(out.shape)}, not class scores [1, classes]`);
      return F.softmax(out, 1).dataSync();
    }),
  );
  const names = metadata.classNames;
  const order = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]! || a - b);
  return {
    file,
    top: order.slice(0, k).map((index) => ({ index, label: names?.[index] ?? String(index), probability: probs[index]! })),
  };
}
