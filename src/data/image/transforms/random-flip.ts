import { ConvkitError } from '../../../tensor/errors.js';
import type { Generator } from '../../../tensor/random.js';
import { hflipBuffer, vflipBuffer } from '../flip.js';
import type { ImageBuffer } from '../image-buffer.js';
import { isNumber, option, registerTransform, Transform, type JsonValue } from './transform.js';

/** Mirrors with probability p; one uniform number is drawn per image whether it flips or not. */
abstract class RandomFlip extends Transform {
  readonly random = true;

  /** `name` for errors: a class's own name does not survive minification. */
  constructor(readonly p: number, name: string) {
    super();
    if (!(p >= 0 && p <= 1)) throw new ConvkitError(`${name}: p is a probability in [0, 1], got ${p}`);
  }

  /** The flipped image. */
  protected abstract flip(img: ImageBuffer): ImageBuffer;

  apply(img: ImageBuffer, g: Generator): ImageBuffer {
    return g.uniform() < this.p ? this.flip(img) : img;
  }

  protected options(): { [key: string]: JsonValue } {
    return { p: this.p };
  }
}

/** Mirrors left-right with probability p (default 0.5). */
export class RandomHorizontalFlip extends RandomFlip {
  readonly type = 'RandomHorizontalFlip';
  constructor(p = 0.5) {
    super(p, 'RandomHorizontalFlip');
  }
  protected flip(img: ImageBuffer): ImageBuffer {
    return hflipBuffer(img);
  }
}

/** Mirrors top-bottom with probability p (default 0.5). */
export class RandomVerticalFlip extends RandomFlip {
  readonly type = 'RandomVerticalFlip';
  constructor(p = 0.5) {
    super(p, 'RandomVerticalFlip');
  }
  protected flip(img: ImageBuffer): ImageBuffer {
    return vflipBuffer(img);
  }
}

registerTransform('RandomHorizontalFlip', (s) => new RandomHorizontalFlip(option(s, 'p', isNumber)));
registerTransform('RandomVerticalFlip', (s) => new RandomVerticalFlip(option(s, 'p', isNumber)));
