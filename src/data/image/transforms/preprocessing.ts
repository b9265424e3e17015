import { ConvkitError } from '../../../tensor/errors.js';
import { aspectCropSize, centerCropBuffer, type Fill } from '../crop.js';
import { convertChannels, rgbToGrayscale } from '../grayscale.js';
import { sizePair, type ImageBuffer, type ImageShape } from '../image-buffer.js';
import { normalizeBuffer, type Normalization } from '../normalize.js';
import { padBuffer, paddingSides, uniformAspectBuffer, type AspectMode, type Padding, type PadMode, type UniformAspectOptions } from '../pad.js';
import { Pca, type PcaJson } from '../pca.js';
import { resizeBuffer, type ResampleMethod, type ResizeOptions } from '../resize.js';
import {
  isBool,
  isNumber,
  isNumberOrNumbers,
  isNumbers,
  isString,
  option,
  registerTransform,
  Transform,
  type JsonValue,
  type TransformSpec,
} from './transform.js';

/** The deterministic pipeline steps (no randomness): the same input always gives the same output. */

function fillJson(fill: Fill | undefined): { fill?: JsonValue } {
  return fill === undefined ? {} : { fill: typeof fill === 'number' ? fill : [...fill] };
}

/** Scales to size (a number: square; or [height, width]). */
export class Resize extends Transform {
  readonly type = 'Resize';
  readonly random = false;
  readonly size: [number, number];

  constructor(size: number | readonly [number, number], readonly opts: ResizeOptions = {}) {
    super();
    this.size = sizePair(size, 'Resize');
  }

  apply(img: ImageBuffer): ImageBuffer {
    return resizeBuffer(img, this.size[0], this.size[1], this.opts);
  }

  override outputShape([c]: ImageShape): ImageShape {
    return [c, ...this.size];
  }

  protected options(): { [key: string]: JsonValue } {
    return { size: [...this.size], ...(this.opts.method ? { method: this.opts.method } : {}), ...(this.opts.antialias !== undefined ? { antialias: this.opts.antialias } : {}) };
  }
}

export class CenterCrop extends Transform {
  readonly type = 'CenterCrop';
  readonly random = false;
  readonly size: [number, number];

  constructor(size: number | readonly [number, number]) {
    super();
    this.size = sizePair(size, 'CenterCrop');
  }

  apply(img: ImageBuffer): ImageBuffer {
    return centerCropBuffer(img, this.size[0], this.size[1]);
  }

  override outputShape([c]: ImageShape): ImageShape {
    return [c, ...this.size];
  }

  protected options(): { [key: string]: JsonValue } {
    return { size: [...this.size] };
  }
}

export class Pad extends Transform {
  readonly type = 'Pad';
  readonly random = false;
  private readonly sides: [number, number, number, number];

  constructor(
    padding: Padding,
    readonly opts: { mode?: PadMode; fill?: Fill } = {},
  ) {
    super();
    this.sides = paddingSides(padding, 'Pad');
  }

  apply(img: ImageBuffer): ImageBuffer {
    return padBuffer(img, this.sides, this.opts);
  }

  override outputShape([c, h, w]: ImageShape): ImageShape {
    const [l, t, r, b] = this.sides;
    return [c, h + t + b, w + l + r];
  }

  protected options(): { [key: string]: JsonValue } {
    return { padding: [...this.sides], ...(this.opts.mode ? { mode: this.opts.mode } : {}), ...fillJson(this.opts.fill) };
  }
}

/** Every image to one aspect ratio by center-cropping or padding (see uniformAspect). */
export class UniformAspect extends Transform {
  readonly type = 'UniformAspect';
  readonly random = false;

  constructor(readonly opts: UniformAspectOptions = {}) {
    super();
  }

  apply(img: ImageBuffer): ImageBuffer {
    return uniformAspectBuffer(img, this.opts);
  }

  override outputShape([c, h, w]: ImageShape): ImageShape {
    const aspect = this.opts.aspect ?? 1;
    const mode = this.opts.mode ?? 'crop';
    if (mode === 'stretch') return [c, h, w];
    if (mode === 'crop') return [c, ...aspectCropSize(h, w, aspect)];
    return w / h > aspect ? [c, Math.max(h, Math.round(w / aspect)), w] : [c, h, Math.max(w, Math.round(h * aspect))];
  }

  protected options(): { [key: string]: JsonValue } {
    const o = this.opts;
    return {
      ...(o.mode ? { mode: o.mode } : {}),
      ...(o.aspect !== undefined ? { aspect: o.aspect } : {}),
      ...(o.padMode ? { padMode: o.padMode } : {}),
      ...fillJson(o.fill),
    };
  }
}

/** Converts to 1, 2, 3 or 4 channels (see toChannels). */
export class ToChannels extends Transform {
  readonly type = 'ToChannels';
  readonly random = false;

  constructor(readonly channels: 1 | 2 | 3 | 4) {
    super();
    if (![1, 2, 3, 4].includes(channels)) throw new ConvkitError(`ToChannels: channels must be 1, 2, 3 or 4, got ${channels}`);
  }

  apply(img: ImageBuffer): ImageBuffer {
    return convertChannels(img, this.channels);
  }

  override outputShape([, h, w]: ImageShape): ImageShape {
    return [this.channels, h, w];
  }

  protected options(): { [key: string]: JsonValue } {
    return { channels: this.channels };
  }
}

/** RGB to grayscale (1 channel, or 3 equal ones with outputChannels 3). */
export class Grayscale extends Transform {
  readonly type = 'Grayscale';
  readonly random = false;

  constructor(readonly outputChannels: 1 | 3 = 1) {
    super();
  }

  apply(img: ImageBuffer): ImageBuffer {
    return img.channels === 1 && this.outputChannels === 1 ? img : rgbToGrayscale(convertChannels(img, 3), { outputChannels: this.outputChannels });
  }

  override outputShape([, h, w]: ImageShape): ImageShape {
    return [this.outputChannels, h, w];
  }

  protected options(): { [key: string]: JsonValue } {
    return { outputChannels: this.outputChannels };
  }
}

/** Standardizes or rescales (see normalize); its statistics travel in the JSON. */
export class Normalize extends Transform {
  readonly type = 'Normalize';
  readonly random = false;

  constructor(readonly normalization: Normalization) {
    super();
  }

  /** Per-channel standardization from mean and std lists, as torchvision's Normalize(mean, std). */
  static perChannel(mean: readonly number[], std: readonly number[]): Normalize {
    return new Normalize({ kind: 'standardize', per: 'channel', mean: [...mean], std: [...std] });
  }

  apply(img: ImageBuffer): ImageBuffer {
    return normalizeBuffer(img, this.normalization);
  }

  protected options(): { [key: string]: JsonValue } {
    return { normalization: JSON.parse(JSON.stringify(this.normalization)) as JsonValue };
  }
}

/** Projects onto fitted principal components ([k, 1, 1] out), or ZCA-whitens (same shape). */
export class PcaTransform extends Transform {
  readonly type = 'Pca';
  readonly random = false;

  constructor(readonly pca: Pca) {
    super();
  }

  apply(img: ImageBuffer): ImageBuffer {
    return this.pca.apply(img);
  }

  override outputShape(input: ImageShape): ImageShape {
    return this.pca.whiten === 'zca' ? input : [this.pca.k, 1, 1];
  }

  protected options(): { [key: string]: JsonValue } {
    return { pca: this.pca.toJSON() as unknown as JsonValue };
  }
}

function size(spec: TransformSpec): number | [number, number] {
  const v = option(spec, 'size', isNumberOrNumbers);
  if (v === undefined) throw new ConvkitError(`${spec.type}: missing option size in ${JSON.stringify(spec)}`);
  return typeof v === 'number' ? v : [v[0]!, v[1]!];
}

function fill(spec: TransformSpec): Fill | undefined {
  return option(spec, 'fill', isNumberOrNumbers);
}

registerTransform('Resize', (s) => {
  const method = option(s, 'method', isString) as ResampleMethod | undefined;
  const antialias = option(s, 'antialias', isBool);
  return new Resize(size(s), { ...(method ? { method } : {}), ...(antialias !== undefined ? { antialias } : {}) });
});
registerTransform('CenterCrop', (s) => new CenterCrop(size(s)));
registerTransform('Pad', (s) => {
  const padding = option(s, 'padding', isNumbers) as [number, number, number, number];
  const mode = option(s, 'mode', isString) as PadMode | undefined;
  const f = fill(s);
  return new Pad(padding, { ...(mode ? { mode } : {}), ...(f !== undefined ? { fill: f } : {}) });
});
registerTransform('UniformAspect', (s) => {
  const mode = option(s, 'mode', isString) as AspectMode | undefined;
  const aspect = option(s, 'aspect', isNumber);
  const padMode = option(s, 'padMode', isString) as PadMode | undefined;
  const f = fill(s);
  return new UniformAspect({ ...(mode ? { mode } : {}), ...(aspect !== undefined ? { aspect } : {}), ...(padMode ? { padMode } : {}), ...(f !== undefined ? { fill: f } : {}) });
});
registerTransform('ToChannels', (s) => new ToChannels(option(s, 'channels', isNumber) as 1 | 2 | 3 | 4));
registerTransform('Grayscale', (s) => new Grayscale((option(s, 'outputChannels', isNumber) ?? 1) as 1 | 3));
registerTransform('Normalize', (s) => new Normalize(s['normalization'] as unknown as Normalization));
registerTransform('Pca', (s) => new PcaTransform(new Pca(s['pca'] as unknown as PcaJson)));
