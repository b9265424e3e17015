import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { sizeOf } from '../tensor/shape.js';
import { checkIndex, type Dataset, type Sample } from './dataset.js';

// v / 255 for every byte, computed once: converting a batch is then one table look-up per pixel.
const TO_UNIT = new Float32Array(256).map((_, v) => v / 255);

/**
 * Images kept as uint8 (0-255, a quarter of the memory of float32: the 60,000 MNIST training
 * digits take 47 MB), handed out as float32 scaled to [0, 1]. The IDX and CIFAR-10 readers
 * return this. Pixels are stored [N, C, H, W], one image after another.
 */
export class ImageDataset implements Dataset {
  readonly length: number;
  readonly sampleShape: readonly number[];
  readonly classes: readonly string[];
  /** A short name for messages and summaries ('digits', 'fashion-mnist/train', ...). */
  readonly name: string;
  private readonly sampleSize: number;

  constructor(
    /** uint8 pixels, length * C * H * W of them. */
    readonly pixels: Uint8Array,
    /** One class index per image. */
    readonly labels: Int32Array,
    sampleShape: readonly number[],
    opts: { classes?: readonly string[]; name?: string } = {},
  ) {
    this.sampleShape = Object.freeze([...sampleShape]);
    this.sampleSize = sizeOf(sampleShape);
    this.length = labels.length;
    this.name = opts.name ?? 'images';
    if (pixels.length !== this.length * this.sampleSize) {
      throw new ConvkitError(
        `ImageDataset ${this.name}: ${labels.length} labels of images ${fmtShape(sampleShape)} need ` +
          `${this.length * this.sampleSize} pixels, got ${pixels.length}; give one label per image`,
      );
    }
    const maxLabel = labels.reduce((m, v) => Math.max(m, v), -1);
    this.classes = opts.classes ?? Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
  }

  get(index: number): Sample {
    const input = new Float32Array(this.sampleSize);
    const label = this.readInto(index, input, 0);
    return { input, label };
  }

  readInto(index: number, out: Float32Array, offset: number): number {
    checkIndex(index, this.length, `ImageDataset ${this.name}`);
    const start = index * this.sampleSize;
    const px = this.pixels;
    for (let i = 0; i < this.sampleSize; i++) out[offset + i] = TO_UNIT[px[start + i]!]!;
    return this.labels[index]!;
  }

  /** The raw uint8 pixels of one image (a view, no copy). */
  image(index: number): Uint8Array {
    checkIndex(index, this.length, `ImageDataset ${this.name}`);
    return this.pixels.subarray(index * this.sampleSize, (index + 1) * this.sampleSize);
  }

  /** How many images each class has, indexed by label. */
  labelCounts(): number[] {
    const counts = new Array<number>(this.classes.length).fill(0);
    for (const v of this.labels) counts[v] = (counts[v] ?? 0) + 1;
    return counts;
  }
}
