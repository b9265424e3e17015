import { ConvkitError } from '../../../tensor/errors.js';
import type { Generator } from '../../../tensor/random.js';
import type { ImageBuffer } from '../image-buffer.js';
import { isNumber, isNumbers, option, registerTransform, Transform, uniform, type JsonValue } from './transform.js';

/**
 * Random erasing (Zhong et al. 2017; "cutout" with a random rectangle), as torchvision's
 * RandomErasing with a constant value: with probability p, a rectangle of random area (a
 * fraction in `scale` of the image) and aspect ratio (log-uniform in `ratio`, height / width)
 * is set to `value` in every channel. Up to 10 tries for a rectangle smaller than the image;
 * if none fits, the image is left as it is. Draws, in torchvision's order: one uniform for p
 * (every image), then per try the area and the log aspect, then the top and the left.
 * Applied in pixel space ([0, 1], before Normalize), value 0 is black, as the padding of a
 * random crop.
 */

export interface RandomErasingOptions {
  /** Probability of erasing an image (default 0.5). */
  p?: number;
  /** Range of the erased area as a fraction of the image (default [0.02, 0.33]). */
  scale?: readonly [number, number];
  /** Range of the rectangle's aspect ratio, height / width (default [0.3, 3.3]). */
  ratio?: readonly [number, number];
  /** The value written (default 0). */
  value?: number;
}

export class RandomErasing extends Transform {
  readonly type = 'RandomErasing';
  readonly random = true;
  readonly p: number;
  readonly scale: [number, number];
  readonly ratio: [number, number];
  readonly value: number;

  constructor(opts: RandomErasingOptions = {}) {
    super();
    this.p = opts.p ?? 0.5;
    this.scale = [...(opts.scale ?? [0.02, 0.33])] as [number, number];
    this.ratio = [...(opts.ratio ?? [0.3, 3.3])] as [number, number];
    this.value = opts.value ?? 0;
    if (!(this.p >= 0 && this.p <= 1)) throw new ConvkitError(`RandomErasing: p is a probability in [0, 1], got ${this.p}`);
    const [s0, s1] = this.scale;
    if (!(s0 >= 0 && s0 <= s1 && s1 <= 1)) throw new ConvkitError(`RandomErasing: scale is a range [min, max] of area fractions within [0, 1], got ${JSON.stringify(opts.scale)}`);
    const [r0, r1] = this.ratio;
    if (!(r0 > 0 && r0 <= r1 && Number.isFinite(r1))) throw new ConvkitError(`RandomErasing: ratio is a range [min, max] of positive aspect ratios, got ${JSON.stringify(opts.ratio)}`);
    if (!Number.isFinite(this.value)) throw new ConvkitError(`RandomErasing: value must be a finite number, got ${this.value}`);
  }

  apply(img: ImageBuffer, g: Generator): ImageBuffer {
    if (!(g.uniform() < this.p)) return img;
    const { channels: c, height: H, width: W } = img;
    const area = H * W;
    const [lr0, lr1] = [Math.log(this.ratio[0]), Math.log(this.ratio[1])];
    for (let attempt = 0; attempt < 10; attempt++) {
      const target = area * uniform(g, this.scale[0], this.scale[1]);
      const aspect = Math.exp(uniform(g, lr0, lr1));
      const h = Math.round(Math.sqrt(target * aspect));
      const w = Math.round(Math.sqrt(target / aspect));
      if (!(h < H && w < W)) continue;
      const top = g.int(H - h + 1);
      const left = g.int(W - w + 1);
      const data = img.data.slice();
      for (let ch = 0; ch < c; ch++) {
        for (let y = top; y < top + h; y++) data.fill(this.value, (ch * H + y) * W + left, (ch * H + y) * W + left + w);
      }
      return { ...img, data };
    }
    return img;
  }

  protected options(): { [key: string]: JsonValue } {
    return { p: this.p, scale: [...this.scale], ratio: [...this.ratio], value: this.value };
  }
}

registerTransform('RandomErasing', (s) => {
  const o: RandomErasingOptions = {};
  const p = option(s, 'p', isNumber);
  const scale = option(s, 'scale', isNumbers);
  const ratio = option(s, 'ratio', isNumbers);
  const value = option(s, 'value', isNumber);
  if (p !== undefined) o.p = p;
  if (scale !== undefined) o.scale = scale as [number, number];
  if (ratio !== undefined) o.ratio = ratio as [number, number];
  if (value !== undefined) o.value = value;
  return new RandomErasing(o);
});
