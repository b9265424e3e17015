import type { Generator } from '../../../tensor/random.js';
import { adjustBrightnessBuffer, adjustContrastBuffer, adjustSaturationBuffer } from '../color.js';
import type { ImageBuffer } from '../image-buffer.js';
import { isNumberOrNumbers, option, registerTransform, symmetricRange, Transform, uniform, type JsonValue } from './transform.js';

/**
 * Random brightness, contrast and saturation changes (see color.ts). Each option is a
 * strength s (factor drawn in [max(0, 1 - s), 1 + s]) or a range [min, max] of factors. The
 * factors are drawn and applied in a fixed order, brightness, contrast, saturation, so that a
 * seed gives one result (torchvision also shuffles the order; a fixed order is simpler to
 * reproduce). Apply it to [0, 1] images, before Normalize.
 */

export interface ColorJitterOptions {
  brightness?: number | readonly [number, number];
  contrast?: number | readonly [number, number];
  saturation?: number | readonly [number, number];
}

export class ColorJitter extends Transform {
  readonly type = 'ColorJitter';
  readonly random = true;
  private readonly ranges: { brightness?: [number, number]; contrast?: [number, number]; saturation?: [number, number] } = {};

  constructor(readonly opts: ColorJitterOptions = {}) {
    super();
    for (const key of ['brightness', 'contrast', 'saturation'] as const) {
      const v = opts[key];
      if (v !== undefined) this.ranges[key] = symmetricRange(v, `ColorJitter: ${key}`, 1, 0);
    }
  }

  apply(img: ImageBuffer, g: Generator): ImageBuffer {
    let x = img;
    const { brightness, contrast, saturation } = this.ranges;
    if (brightness) x = adjustBrightnessBuffer(x, uniform(g, brightness[0], brightness[1]));
    if (contrast) x = adjustContrastBuffer(x, uniform(g, contrast[0], contrast[1]));
    if (saturation) x = adjustSaturationBuffer(x, uniform(g, saturation[0], saturation[1]));
    return x;
  }

  protected options(): { [key: string]: JsonValue } {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, v] of Object.entries(this.ranges)) out[k] = [...v];
    return out;
  }
}

registerTransform('ColorJitter', (s) => {
  const o: ColorJitterOptions = {};
  for (const key of ['brightness', 'contrast', 'saturation'] as const) {
    const v = option(s, key, isNumberOrNumbers);
    if (v !== undefined) o[key] = v as number | [number, number];
  }
  return new ColorJitter(o);
});
