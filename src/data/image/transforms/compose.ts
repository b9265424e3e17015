import { ConvkitError } from '../../../tensor/errors.js';
import type { Generator } from '../../../tensor/random.js';
import type { ImageBuffer, ImageShape } from '../image-buffer.js';
import { registerTransform, Transform, transformFromJSON, type JsonValue, type TransformSpec } from './transform.js';

/**
 * A pipeline: transforms applied in order, each drawing from the same generator. Practitioners'
 * order is: uniform aspect, resize, (augment: random crop, flip, affine, colour jitter), then
 * normalize last, since colour jitter expects [0, 1] values.
 */
export class Compose extends Transform {
  readonly type = 'Compose';
  readonly transforms: readonly Transform[];

  constructor(transforms: readonly Transform[]) {
    super();
    transforms.forEach((t, i) => {
      if (!(t instanceof Transform)) throw new ConvkitError(`Compose: item ${i} is not an image transform (got ${String(t)})`);
    });
    this.transforms = Object.freeze([...transforms]);
  }

  get random(): boolean {
    return this.transforms.some((t) => t.random);
  }

  apply(img: ImageBuffer, generator: Generator): ImageBuffer {
    let x = img;
    for (const t of this.transforms) x = t.apply(x, generator);
    return x;
  }

  override outputShape(input: ImageShape): ImageShape {
    return this.transforms.reduce((s, t) => t.outputShape(s), input);
  }

  protected options(): { [key: string]: JsonValue } {
    return { transforms: this.transforms.map((t) => t.toJSON()) };
  }
}

registerTransform('Compose', (spec) => {
  const list = spec['transforms'];
  if (!Array.isArray(list)) throw new ConvkitError(`Compose: expected "transforms": [...] in ${JSON.stringify(spec)}`);
  return new Compose(list.map((s) => transformFromJSON(s as TransformSpec)));
});
