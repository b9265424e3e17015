import type { Command } from 'commander';
import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { noGrad } from '../../autograd/tape.js';
import { tidy } from '../../tensor/scope.js';
import * as F from '../../functional.js';
import type { Module } from '../../nn/module.js';
import { loadWithMetadata } from '../../io/save-load.js';
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
    .addHelpText(
      'after',
      "\nEach image is converted to the model's input: to its channels (grayscale or RGB), center-cropped\n" +
        "to its aspect ratio, resized to its size, then normalized as in training (the model file's metadata).",
    )
    .action(
      action(async (file: string, images: string[], flags: PredictFlags) => {
        const { model, metadata } = await loadWithMetadata(file);
        const toInput = inputMaker(file, metadata);
        for (const image of images) {
          const decoded = await decodeImageFile(image);
          const p = predictOne(model, toInput(decoded, image), metadata, flags.top, image);
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
function inputMaker(file: string, metadata: ModelMetadata): (img: ImageBuffer, name: string) => ImageBuffer {
  const pipelineJson = metadata['inputPipeline'] as InputPipelineJson | undefined;
  if (pipelineJson) {
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
    const x = preprocessImage(img, { channels: c, size: [h, w], aspect: 'crop' });
    return normalization ? normalizeBuffer(x, normalization) : x;
  };
}

export function predictOne(model: Module, x: ImageBuffer, metadata: ModelMetadata, k: number, file: string): Prediction {
  const probs = noGrad(() =>
    tidy(() => {
      const input = new Tensor(x.data, [1, x.channels, x.height, x.width]);
      const out = model.forward(input);
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
