import type { Command } from 'commander';
import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { ttaForward } from '../../train/tta.js';
import { noGrad } from '../../autograd/tape.js';
import { optimizeForInference } from '../../nn/optimize-for-inference.js';
import { tidy } from '../../tensor/scope.js';
import * as F from '../../functional.js';
import type { Module } from '../../nn/module.js';
import { averageScoreGrid } from '../../analysis/fc-to-conv.js';
import { parseVolume } from '../../analysis/units.js';
import { fmtVolumeArg } from './volume-arg.js';
import type { ModelMetadata } from '../../io/model-file.js';
import { decodeImageFile } from '../../data/image/decode.js';
import { preprocessImage, InputPipeline, type InputPipelineJson } from '../../data/image/preprocess.js';
import { normalizeBuffer } from '../../data/image/normalize.js';
import { savedNormalization } from '../input-normalization.js';
import type { ImageBuffer } from '../../data/image/image-buffer.js';
import { loadModelArg } from '../model-loader.js';
import { loadTorchvisionModel } from '../torchvision-weights.js';
import { imagenetPreprocess } from '../../data/imagenet.js';
import { action, positiveInt } from '../run.js';
import { renderGrid, type DenseGrid } from './dense-grid.js';

interface PredictFlags {
  top: number;
  json?: boolean;
  input?: string;
  dense?: boolean;
  scale: string;
  model?: string;
  weights?: string;
  tta?: boolean;
}

export interface Prediction {
  file: string;
  top: { index: number; label: string; probability: number }[];
  /** --dense: the grid of scores the average comes from. */
  grid?: DenseGrid;
}

export function registerPredict(program: Command): void {
  program
    .command('predict [model] [images...]')
    .description('the most likely classes of images (PNG, JPEG, WebP, ...) with their probabilities')
    .option('--model <name>', "with --weights: a torchvision architecture (resnet18, vgg16_bn, googlenet, alexnet, ...); then every argument is an image")
    .option('--weights <file>', "with --model: its PyTorch state dict (.pth / .pt or .safetensors) under torchvision's names; ImageNet preprocessing and class names")
    .option('--top <k>', 'how many classes to show', positiveInt('--top'), 5)
    .option('--json', 'one JSON object per image')
    .option('--tta', 'test-time augmentation: the mean of the probabilities of the image and its mirror image (not for digits or text, which a mirror changes)')
    .option('--input <WxHxC>', "the model's input volume, when the file does not record it (e.g. an .onnx file with symbolic sizes)")
    .option('--dense', 'for a fully convolutional model (convkit convert-fc): slide the net over the whole image; prints the grid of top classes and its average')
    .option('--scale <how>', "with --dense: fit (scale the image so that its shorter side is the training input's), none (keep its pixels), or a factor such as 0.5", 'fit')
    .addHelpText(
      'after',
      "\nEach image is converted to the model's input as in training (the model file's metadata): to its\n" +
        'channels (grayscale or RGB), center-cropped to its aspect ratio, resized to its size, then normalized.\n' +
        '<model> is a .convkit model or checkpoint or an .onnx file.\n' +
        'Or torchvision weights: convkit predict --model resnet18 --weights resnet18.pth cat.jpg (the shorter side\n' +
        "resized to 256, the centre 224x224 cut, ImageNet's mean/std, or 0.5/0.5 for GoogLeNet as torchvision's transform_input;\n" +
        "1,000-class outputs are named by ImageNet's classes).",
    )
    .action(action(async (file: string | undefined, images: string[], flags: PredictFlags) => runPredict(file, images, flags)));
}

async function runPredict(first: string | undefined, rest: string[], flags: PredictFlags): Promise<void> {
  const scale = parseScale(flags.scale);
  const torchvision = flags.model !== undefined || flags.weights !== undefined;
  if (torchvision && (flags.model === undefined || flags.weights === undefined)) {
    throw new ConvkitError(flags.model === undefined ? '--weights needs --model (the torchvision architecture, e.g. --model resnet18)' : '--model needs --weights (the PyTorch state dict file)');
  }
  // With --model every argument is an image; otherwise the first names the model.
  const file = torchvision ? flags.weights! : first;
  const images = torchvision ? (first === undefined ? rest : [first, ...rest]) : rest;
  if (file === undefined || !images.length) {
    throw new ConvkitError(torchvision ? 'give at least one image' : 'give a model and at least one image: convkit predict <model> <images...> (or --model NAME --weights FILE <images...>)');
  }
  const { model, metadata } = torchvision ? await loadTorchvisionModel(flags.model!, flags.weights!) : await loadModelArg(file);
  const recorded = metadata.inputShape;
  if (flags.input) {
    const given = parseVolume(flags.input);
    if (recorded && recorded.join() !== given.join()) {
      throw new ConvkitError(`--input ${flags.input} disagrees with ${file}, which records its input as ${fmtVolumeArg(recorded)}; leave --input out`);
    }
    metadata.inputShape = [...given];
  }
  const dense = flags.dense ?? false;
  if (dense && metadata['fullyConvolutional'] !== true) {
    throw new ConvkitError(`--dense needs a fully convolutional model; make one with: convkit convert-fc ${file} <out>`);
  }
  if (flags.tta) checkTta(metadata, dense);
  const toInput = inputMaker(file, metadata, dense, scale);
  // The fused plan (conv + batch norm folded, ReLU epilogues, activations freed): `convkit info --fused` shows it.
  const runner = optimizeForInference(model);
  for (const image of images) {
    const decoded = await decodeImageFile(image);
    const x = toInput(decoded);
    const p = predictOne(runner, x.image, metadata, flags.top, image, dense, file, flags.tta ?? false);
    if (p.grid) p.grid = { ...p.grid, scaledTo: [x.image.height, x.image.width], imageSize: [decoded.height, decoded.width] };
    if (flags.json) process.stdout.write(`${JSON.stringify(p)}\n`);
    else {
      process.stdout.write(`${image}\n`);
      if (p.grid) process.stdout.write(renderGrid(p.grid, metadata.classNames));
      for (const t of p.top) process.stdout.write(`  ${(t.probability * 100).toFixed(2).padStart(6)}%  ${t.label}\n`);
    }
  }
}

function parseScale(text: string): 'fit' | 'none' | number {
  if (text === 'fit' || text === 'none') return text;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new ConvkitError(`--scale must be fit, none or a positive factor such as 0.5, got '${text}'`);
  return n;
}

/**
 * How a decoded picture becomes this model's input [C, H, W]: the saved input pipeline when
 * training recorded one, else the input shape (channels, center crop to its aspect, resize);
 * then the saved normalization. Dense prediction keeps the whole picture, scaled.
 */
function inputMaker(file: string, metadata: ModelMetadata, dense: boolean, scale: 'fit' | 'none' | number): (img: ImageBuffer) => { image: ImageBuffer } {
  const imagenet = metadata['imagenetPreprocess'] as { mean: number[]; std: number[] } | undefined;
  if (imagenet && !dense) return (img) => ({ image: imagenetPreprocess(img, imagenet) });
  const normalization = savedNormalization(metadata);
  const normalize = (x: ImageBuffer) => (normalization ? normalizeBuffer(x, normalization) : x);
  const pipelineJson = metadata.inputPipeline as InputPipelineJson | undefined;
  if (pipelineJson && !dense) {
    const pipeline = InputPipeline.fromJSON(pipelineJson);
    // A pipeline with its own transform normalizes itself; convkit train records the normalization apart.
    return (img) => ({ image: pipelineJson.transform ? pipeline.applyBuffer(img) : normalize(pipeline.applyBuffer(img)) });
  }
  const shape = metadata.inputShape;
  if (!shape || shape.length !== 3) {
    throw new ConvkitError(`${file}: the model file does not say its input shape, so images cannot be converted for it; give it with --input WxHxC (e.g. 28x28x1)`);
  }
  const [c, h, w] = shape as [number, number, number];
  if (c !== 1 && c !== 3 && c !== 4) throw new ConvkitError(`${file}: expects ${c}-channel inputs ${fmtShape(shape)}; images convert to 1 (gray), 3 (RGB) or 4 (RGBA) channels`);
  return (img) => {
    if (!dense) return { image: normalize(preprocessImage(img, { channels: c, size: [h, w], aspect: 'crop' })) };
    // Scale the picture to the scale the net was trained at (the object fills the shorter side),
    // then round down to the training size plus whole strides (convert-fc records the stride) so the grid fits.
    const factor = scale === 'fit' ? Math.max(h / img.height, w / img.width) : scale === 'none' ? 1 : scale;
    const [sh, sw] = (metadata['totalStride'] as [number, number] | undefined) ?? [1, 1];
    const fit = (n: number, base: number, s: number) => base + Math.max(0, Math.floor((n - base) / s)) * s;
    const size: [number, number] = [fit(Math.round(img.height * factor), h, sh), fit(Math.round(img.width * factor), w, sw)];
    return { image: normalize(preprocessImage(img, { channels: c, size, aspect: 'stretch' })) };
  };
}

/** --tta mirrors the image: refused for dense grids and for models of the digits (a mirrored digit is another symbol). */
export function checkTta(metadata: ModelMetadata, dense: boolean): void {
  if (dense) throw new ConvkitError('--tta and --dense do not go together; leave one out');
  if (metadata['trainedOn'] === 'digits') throw new ConvkitError('--tta mirrors the images, and a mirrored digit is another symbol; leave --tta out for digit models');
}

export function predictOne(model: Module, x: ImageBuffer, metadata: ModelMetadata, k: number, file: string, dense = false, modelFile = 'the model', tta = false): Prediction {
  let grid: DenseGrid | undefined;
  const probs = noGrad(() =>
    tidy(() => {
      const input = new Tensor(x.data, [1, x.channels, x.height, x.width]);
      let out = model.forward(input);
      if (dense) {
        if (out.ndim !== 4) throw new ConvkitError(`--dense needs a fully convolutional model (convkit convert-fc) whose output is a grid [1, classes, h, w]; this one gives ${fmtShape(out.shape)}`);
        grid = gridOf(out, (metadata['totalStride'] as [number, number] | undefined) ?? [1, 1]);
        out = averageScoreGrid(out);
      }
      if (out.ndim !== 2) {
        const hint = out.ndim === 4 || metadata['fullyConvolutional'] === true ? `; it is fully convolutional (convkit convert-fc): use convkit predict --dense ${modelFile} ...` : '';
        throw new ConvkitError(`the model's output is ${fmtShape(out.shape)}, not class scores [1, classes]${hint}`);
      }
      // The log of the mean of the two softmax outputs: its softmax is that mean.
      return F.softmax(tta ? ttaForward(model, input) : out, 1).dataSync();
    }),
  );
  const names = metadata.classNames;
  const order = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]! || a - b);
  return {
    file,
    top: order.slice(0, k).map((index) => ({ index, label: names?.[index] ?? String(index), probability: probs[index]! })),
    ...(grid ? { grid } : {}),
  };
}

/** Per cell of a [1, K, gh, gw] score grid: the class probabilities and the top class. */
function gridOf(out: Tensor, stride: [number, number]): DenseGrid {
  const [, k, gh, gw] = out.shape as [number, number, number, number];
  const p = F.softmax(out, 1).dataSync();
  const probabilities: number[][][] = [];
  const top: number[][] = [];
  for (let i = 0; i < gh; i++) {
    const pr: number[][] = [];
    const tr: number[] = [];
    for (let j = 0; j < gw; j++) {
      const cell = Array.from({ length: k }, (_, c) => p[(c * gh + i) * gw + j]!);
      let best = 0;
      for (let c = 1; c < k; c++) if (cell[c]! > cell[best]!) best = c;
      pr.push(cell);
      tr.push(best);
    }
    probabilities.push(pr);
    top.push(tr);
  }
  return { rows: gh, cols: gw, stride, top, probabilities };
}
