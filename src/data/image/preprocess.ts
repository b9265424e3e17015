import { ConvkitError } from '../../tensor/errors.js';
import { Generator } from '../../tensor/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import { convertChannels } from './grayscale.js';
import { imageToTensor, sizePair, toImageBuffer, type ImageBuffer, type ImageLike, type ImageShape } from './image-buffer.js';
import { uniformAspectBuffer, type AspectMode } from './pad.js';
import { dequantize, quantize } from './pixels.js';
import { resizeBuffer, type ResampleMethod } from './resize.js';
import { transformFromJSON, type Transform, type TransformSpec } from './transforms/transform.js';

/**
 * The fixed preprocessing from a decoded picture to a model input of one shape, in the order
 * practitioners apply it: channels (gray / RGB / RGBA), uniform aspect ratio (center crop or
 * pad), scaling to the target size, then (InputPipeline) normalization. A folder of images of
 * mixed sizes, formats and colour modes comes out as one [C, H, W].
 */

export interface PreprocessSpec {
  /** Target size: a number for a square, or [height, width]; omitted: keep the decoded size. */
  size?: number | [number, number];
  /** Channels out: 1 (gray), 3 (RGB, default) or 4 (RGBA). */
  channels?: 1 | 3 | 4;
  /** Make the aspect uniform by 'crop' (default), 'pad', or 'stretch' (scale without keeping aspect). */
  aspect?: AspectMode;
  /** Resampling for the scaling (default 'bilinear', antialiased). */
  resample?: ResampleMethod;
  antialias?: boolean;
  /** Padding value for aspect 'pad' (default 0). */
  fill?: number;
}

/** Applies a PreprocessSpec to a decoded image. */
export function preprocessImage(img: ImageBuffer, spec: PreprocessSpec = {}): ImageBuffer {
  let x = convertChannels(img, spec.channels ?? 3);
  if (spec.size === undefined) return x;
  const [h, w] = sizePair(spec.size, 'preprocess');
  x = uniformAspectBuffer(x, { mode: spec.aspect ?? 'crop', aspect: w / h, fill: spec.fill ?? 0 });
  return resizeBuffer(x, h, w, { method: spec.resample ?? 'bilinear', ...(spec.antialias !== undefined ? { antialias: spec.antialias } : {}) });
}

/** The shape preprocessImage gives; `decoded` ([height, width] of an input) is needed when spec has no size. */
export function preprocessedShape(spec: PreprocessSpec, decoded?: readonly [number, number]): ImageShape {
  const c = spec.channels ?? 3;
  if (spec.size !== undefined) return [c, ...sizePair(spec.size, 'preprocess')];
  if (!decoded) throw new ConvkitError('preprocess: without a size, the output shape is that of the decoded images; give size');
  return [c, decoded[0], decoded[1]];
}

/** An InputPipeline as JSON, saved in a model's metadata. */
export interface InputPipelineJson {
  preprocess: PreprocessSpec;
  /** Round to 8 bits after scaling, as ImageFolder's caches and `convkit preprocess` do. */
  quantize: boolean;
  transform?: TransformSpec;
}

/**
 * Decoded picture -> model input, as one JSON-serializable object: preprocessing, 8-bit
 * rounding, then deterministic transforms (Normalize, Grayscale, Pca...). Training saves it
 * with the model (`pipeline.toJSON()` in the metadata) and predict rebuilds it with
 * `InputPipeline.fromJSON`, so both see identical inputs.
 */
export class InputPipeline {
  constructor(
    readonly preprocess: PreprocessSpec = {},
    readonly transform?: Transform,
    readonly quantize = true,
  ) {
    if (transform?.random) {
      throw new ConvkitError(
        `InputPipeline: the transform ${transform.type} is random; an input pipeline must give the same input every time ` +
          '(put augmentation in the loader: ImageLoader augment, or DataLoader transform)',
      );
    }
  }

  /** The buffer form; `index` seeds transforms that ask for a generator (none of the deterministic ones draws). */
  applyBuffer(img: ImageBuffer, index = 0): ImageBuffer {
    let x = preprocessImage(img, this.preprocess);
    if (this.quantize) {
      const q = quantize(x.data);
      const data = new Float32Array(q.length);
      dequantize(q, data);
      x = { ...x, data };
    }
    return this.transform ? this.transform.apply(x, new Generator(index)) : x;
  }

  /** A decoded image (buffer or [C, H, W] tensor) -> the model's input as a [C, H, W] tensor. */
  apply(img: ImageLike): Tensor {
    return imageToTensor(this.applyBuffer(toImageBuffer(img, 'InputPipeline')));
  }

  /** The [C, H, W] the pipeline produces, from the decoded image's [height, width] when the size depends on it. */
  outputShape(decoded?: readonly [number, number]): ImageShape {
    const s = preprocessedShape(this.preprocess, decoded);
    return this.transform ? this.transform.outputShape(s) : s;
  }

  /** This pipeline as JSON (`InputPipeline.fromJSON` rebuilds it). */
  toJSON(): InputPipelineJson {
    return {
      preprocess: JSON.parse(JSON.stringify(this.preprocess)) as PreprocessSpec,
      quantize: this.quantize,
      ...(this.transform ? { transform: this.transform.toJSON() } : {}),
    };
  }

  /** Rebuilds a pipeline saved with `toJSON`. */
  static fromJSON(json: InputPipelineJson): InputPipeline {
    if (typeof json !== 'object' || json === null || typeof json.preprocess !== 'object') {
      throw new ConvkitError(`InputPipeline.fromJSON: expected { preprocess, quantize, transform? }, got ${JSON.stringify(json)}`);
    }
    return new InputPipeline(json.preprocess, json.transform ? transformFromJSON(json.transform) : undefined, json.quantize ?? true);
  }
}
