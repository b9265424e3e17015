import { ConvkitError } from '../../../tensor/errors.js';
import type { Generator } from '../../../tensor/random.js';
import { affineMatrix, warpAffineBuffer } from '../affine.js';
import type { Fill } from '../crop.js';
import type { ImageBuffer } from '../image-buffer.js';
import { isNumberOrNumbers, isString, option, registerTransform, symmetricRange, Transform, uniform, type JsonValue, type TransformSpec } from './transform.js';

/**
 * Random geometric augmentation in one resampling: rotation, translation, scaling and shear
 * about the image center, output the same size (gaps take `fill`). Parameters are drawn in
 * the order angle, translation (x then y), scale, shear (x then y), as torchvision does.
 */

export interface RandomAffineOptions {
  /** Degrees: r for [-r, r], or [min, max]. Default 0. */
  degrees?: number | readonly [number, number];
  /** Maximum shift as fractions of width and height [fx, fy]: tx drawn in [-fx W, fx W], rounded. */
  translate?: readonly [number, number];
  /** Zoom range [min, max]. */
  scale?: readonly [number, number];
  /** Shear degrees: r for x in [-r, r]; [min, max] for x; or [xmin, xmax, ymin, ymax]. */
  shear?: number | readonly number[];
  interpolation?: 'bilinear' | 'nearest';
  fill?: Fill;
}

export class RandomAffine extends Transform {
  readonly type: string = 'RandomAffine';
  readonly random = true;
  private readonly degrees: [number, number];
  private readonly shearX: [number, number] | null;
  private readonly shearY: [number, number] | null;

  constructor(readonly opts: RandomAffineOptions = {}) {
    super();
    this.degrees = symmetricRange(opts.degrees ?? 0, `${this.type}: degrees`);
    const t = opts.translate;
    if (t && !(t.length === 2 && t.every((v) => v >= 0 && v <= 1))) {
      throw new ConvkitError(`RandomAffine: translate is [fx, fy], fractions of width and height in [0, 1], got ${JSON.stringify(t)}`);
    }
    const s = opts.scale;
    if (s && !(s.length === 2 && s[0] > 0 && s[0] <= s[1])) throw new ConvkitError(`RandomAffine: scale is a range [min, max] of positive numbers, got ${JSON.stringify(s)}`);
    const sh = opts.shear;
    if (sh === undefined) {
      this.shearX = this.shearY = null;
    } else if (typeof sh === 'number' || sh.length === 2) {
      this.shearX = symmetricRange(sh, 'RandomAffine: shear');
      this.shearY = null;
    } else if (sh.length === 4) {
      this.shearX = symmetricRange([sh[0]!, sh[1]!], 'RandomAffine: shear x');
      this.shearY = symmetricRange([sh[2]!, sh[3]!], 'RandomAffine: shear y');
    } else {
      throw new ConvkitError(`RandomAffine: shear is a number, [min, max] or [xmin, xmax, ymin, ymax], got ${JSON.stringify(sh)}`);
    }
  }

  apply(img: ImageBuffer, g: Generator): ImageBuffer {
    const angle = uniform(g, this.degrees[0], this.degrees[1]);
    let tx = 0;
    let ty = 0;
    if (this.opts.translate) {
      const mx = this.opts.translate[0] * img.width;
      const my = this.opts.translate[1] * img.height;
      tx = Math.round(uniform(g, -mx, mx));
      ty = Math.round(uniform(g, -my, my));
    }
    const scale = this.opts.scale ? uniform(g, this.opts.scale[0], this.opts.scale[1]) : 1;
    const shx = this.shearX ? uniform(g, this.shearX[0], this.shearX[1]) : 0;
    const shy = this.shearY ? uniform(g, this.shearY[0], this.shearY[1]) : 0;
    const m = affineMatrix({ angle, translate: [tx, ty], scale, shear: [shx, shy] }, img.height, img.width);
    return warpAffineBuffer(img, m, { interpolation: this.opts.interpolation ?? 'bilinear', fill: this.opts.fill ?? 0 });
  }

  protected options(): { [key: string]: JsonValue } {
    const o = this.opts;
    const out: { [key: string]: JsonValue } = { degrees: [...this.degrees] };
    if (o.translate) out['translate'] = [...o.translate];
    if (o.scale) out['scale'] = [...o.scale];
    if (o.shear !== undefined) out['shear'] = typeof o.shear === 'number' ? o.shear : [...o.shear];
    if (o.interpolation) out['interpolation'] = o.interpolation;
    if (o.fill !== undefined) out['fill'] = typeof o.fill === 'number' ? o.fill : [...o.fill];
    return out;
  }
}

/** Rotation by a random angle in [-degrees, degrees] (or [min, max]). */
export class RandomRotation extends RandomAffine {
  override readonly type: string = 'RandomRotation';
  constructor(degrees: number | readonly [number, number], opts: { interpolation?: 'bilinear' | 'nearest'; fill?: Fill } = {}) {
    super({ ...opts, degrees });
  }
}

/** Zoom in or out about the center by a random factor in [min, max], same output size. */
export class RandomScale extends RandomAffine {
  override readonly type: string = 'RandomScale';
  constructor(scale: readonly [number, number], opts: { interpolation?: 'bilinear' | 'nearest'; fill?: Fill } = {}) {
    super({ ...opts, scale });
  }
}

function affineOptions(s: TransformSpec): RandomAffineOptions {
  const o: RandomAffineOptions = {};
  const degrees = option(s, 'degrees', isNumberOrNumbers);
  const translate = option(s, 'translate', isNumberOrNumbers);
  const scale = option(s, 'scale', isNumberOrNumbers);
  const shear = option(s, 'shear', isNumberOrNumbers);
  const interpolation = option(s, 'interpolation', isString);
  const fill = option(s, 'fill', isNumberOrNumbers);
  if (degrees !== undefined) o.degrees = degrees as number | [number, number];
  if (translate !== undefined) o.translate = translate as [number, number];
  if (scale !== undefined) o.scale = scale as [number, number];
  if (shear !== undefined) o.shear = shear;
  if (interpolation !== undefined) o.interpolation = interpolation as 'bilinear' | 'nearest';
  if (fill !== undefined) o.fill = fill;
  return o;
}

registerTransform('RandomAffine', (s) => new RandomAffine(affineOptions(s)));
registerTransform('RandomRotation', (s) => {
  const o = affineOptions(s);
  return new RandomRotation(o.degrees ?? 0, { ...(o.interpolation ? { interpolation: o.interpolation } : {}), ...(o.fill !== undefined ? { fill: o.fill } : {}) });
});
registerTransform('RandomScale', (s) => {
  const o = affineOptions(s);
  return new RandomScale(o.scale ?? [1, 1], { ...(o.interpolation ? { interpolation: o.interpolation } : {}), ...(o.fill !== undefined ? { fill: o.fill } : {}) });
});
