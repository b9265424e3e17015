import { ConvkitError } from '../../../tensor/errors.js';
import type { Generator } from '../../../tensor/random.js';
import { cropBuffer, type Fill } from '../crop.js';
import { sizePair, type ImageBuffer, type ImageShape } from '../image-buffer.js';
import { padBuffer, paddingSides, type Padding, type PadMode } from '../pad.js';
import { resizeBuffer, type ResampleMethod } from '../resize.js';
import { isNumberOrNumbers, isString, option, registerTransform, Transform, uniform, type JsonValue } from './transform.js';

/** Random crops: the translation augmentation (with padding, as for CIFAR-10) and Inception's scale-and-aspect crop. */

export interface RandomCropOptions {
  /** Pad the image first (e.g. 4 for CIFAR-10's 32x32 crops of 40x40), so crops can shift the content. */
  padding?: Padding;
  padMode?: PadMode;
  fill?: Fill;
}

/** A size-sized window at a uniformly random position (top and left drawn in that order). */
export class RandomCrop extends Transform {
  readonly type = 'RandomCrop';
  readonly random = true;
  readonly size: [number, number];
  private readonly sides: [number, number, number, number];

  constructor(
    size: number | readonly [number, number],
    readonly opts: RandomCropOptions = {},
  ) {
    super();
    this.size = sizePair(size, 'RandomCrop');
    this.sides = paddingSides(opts.padding ?? 0, 'RandomCrop');
  }

  apply(img: ImageBuffer, g: Generator): ImageBuffer {
    const padded = this.sides.some((v) => v > 0)
      ? padBuffer(img, this.sides, { mode: this.opts.padMode ?? 'constant', fill: this.opts.fill ?? 0 })
      : img;
    const [h, w] = this.size;
    if (padded.height < h || padded.width < w) {
      throw new ConvkitError(
        `RandomCrop: a ${h}x${w} crop does not fit in a ${padded.height}x${padded.width} image ` +
          `(${img.height}x${img.width} plus padding); resize first or pad more`,
      );
    }
    const top = g.int(padded.height - h + 1);
    const left = g.int(padded.width - w + 1);
    return cropBuffer(padded, top, left, h, w);
  }

  override outputShape([c]: ImageShape): ImageShape {
    return [c, ...this.size];
  }

  protected options(): { [key: string]: JsonValue } {
    const o = this.opts;
    return {
      size: [...this.size],
      padding: [...this.sides],
      ...(o.padMode ? { padMode: o.padMode } : {}),
      ...(o.fill !== undefined ? { fill: typeof o.fill === 'number' ? o.fill : [...o.fill] } : {}),
    };
  }
}

/** Options of `RandomResizedCrop`. */
export interface RandomResizedCropOptions {
  /** Range of the crop's area as a fraction of the image (default [0.08, 1]). */
  scale?: readonly [number, number];
  /** Range of the crop's aspect ratio width / height, drawn log-uniformly (default [3/4, 4/3]). */
  ratio?: readonly [number, number];
  method?: ResampleMethod;
}

/**
 * A crop of random area and aspect, resized to size (the Inception / torchvision augmentation):
 * up to 10 tries for a window that fits, else the central crop of the nearest allowed aspect.
 */
export class RandomResizedCrop extends Transform {
  readonly type = 'RandomResizedCrop';
  readonly random = true;
  readonly size: [number, number];
  readonly scale: [number, number];
  readonly ratio: [number, number];

  constructor(
    size: number | readonly [number, number],
    readonly opts: RandomResizedCropOptions = {},
  ) {
    super();
    this.size = sizePair(size, 'RandomResizedCrop');
    this.scale = [...(opts.scale ?? [0.08, 1])] as [number, number];
    this.ratio = [...(opts.ratio ?? [3 / 4, 4 / 3])] as [number, number];
    if (!(this.scale[0] > 0 && this.scale[0] <= this.scale[1] && this.ratio[0] > 0 && this.ratio[0] <= this.ratio[1])) {
      throw new ConvkitError(`RandomResizedCrop: scale and ratio must be ranges [min, max] of positive numbers, got scale ${JSON.stringify(this.scale)}, ratio ${JSON.stringify(this.ratio)}`);
    }
  }

  apply(img: ImageBuffer, g: Generator): ImageBuffer {
    const { height: H, width: W } = img;
    const area = H * W;
    const [lr0, lr1] = [Math.log(this.ratio[0]), Math.log(this.ratio[1])];
    let win: [number, number, number, number] | null = null;
    for (let attempt = 0; attempt < 10 && !win; attempt++) {
      const target = area * uniform(g, this.scale[0], this.scale[1]);
      const aspect = Math.exp(uniform(g, lr0, lr1));
      const w = Math.round(Math.sqrt(target * aspect));
      const h = Math.round(Math.sqrt(target / aspect));
      if (w > 0 && h > 0 && w <= W && h <= H) win = [g.int(H - h + 1), g.int(W - w + 1), h, w];
    }
    if (!win) {
      const aspect = Math.min(Math.max(W / H, this.ratio[0]), this.ratio[1]);
      const [h, w] = W / H > aspect ? [H, Math.round(H * aspect)] : [Math.round(W / aspect), W];
      win = [Math.floor((H - h) / 2), Math.floor((W - w) / 2), h, w];
    }
    const cut = cropBuffer(img, win[0], win[1], win[2], win[3]);
    return resizeBuffer(cut, this.size[0], this.size[1], this.opts.method ? { method: this.opts.method } : {});
  }

  override outputShape([c]: ImageShape): ImageShape {
    return [c, ...this.size];
  }

  protected options(): { [key: string]: JsonValue } {
    return { size: [...this.size], scale: [...this.scale], ratio: [...this.ratio], ...(this.opts.method ? { method: this.opts.method } : {}) };
  }
}

registerTransform('RandomCrop', (s) => {
  const size = option(s, 'size', isNumberOrNumbers);
  const padding = option(s, 'padding', isNumberOrNumbers);
  const padMode = option(s, 'padMode', isString) as PadMode | undefined;
  const fill = option(s, 'fill', isNumberOrNumbers);
  return new RandomCrop(size as number | [number, number], {
    ...(padding !== undefined ? { padding: padding as Padding } : {}),
    ...(padMode ? { padMode } : {}),
    ...(fill !== undefined ? { fill } : {}),
  });
});
registerTransform('RandomResizedCrop', (s) => {
  const method = option(s, 'method', isString) as ResampleMethod | undefined;
  return new RandomResizedCrop(option(s, 'size', isNumberOrNumbers) as number | [number, number], {
    scale: option(s, 'scale', isNumberOrNumbers) as [number, number],
    ratio: option(s, 'ratio', isNumberOrNumbers) as [number, number],
    ...(method ? { method } : {}),
  });
});
