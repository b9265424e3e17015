import { ConvkitError } from '../../tensor/errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { convertChannels } from './grayscale.js';
import { imageToTensor, toImageBuffer, type ImageBuffer, type ImageLike } from './image-buffer.js';
import { fromInterleaved, toInterleaved } from './pixels.js';

/**
 * Images in the browser: an ImageData, a canvas (HTML or Offscreen), an ImageBitmap or an
 * <img> element -> a [C, H, W] tensor in [0, 1], and back to ImageData to draw. No Node
 * built-ins here. Canvases hold RGBA; `channels` picks what to keep (default 3, RGB).
 * Browsers apply EXIF orientation when decoding (createImageBitmap's default 'from-image').
 */

/** What ImageData looks like (so plain objects work too, e.g. in tests or workers without DOM types). */
export interface ImageDataLike {
  readonly data: Uint8ClampedArray | Uint8Array;
  readonly width: number;
  readonly height: number;
}

interface Context2D {
  getImageData(x: number, y: number, w: number, h: number): ImageDataLike;
  drawImage(image: unknown, x: number, y: number): void;
}

/** Anything with a 2D context: HTMLCanvasElement, OffscreenCanvas. */
export interface CanvasLike {
  readonly width: number;
  readonly height: number;
  /** The canvas's 2D drawing context. */
  getContext(kind: '2d'): unknown;
}

/** Something drawable with known size: ImageBitmap, HTMLImageElement, HTMLVideoElement... */
export interface DrawableLike {
  readonly width: number;
  readonly height: number;
}

/** What the browser image functions read: ImageData, a canvas, or anything drawable with a size. */
export type BrowserImageSource = ImageDataLike | CanvasLike | DrawableLike;

/** Options of the browser image readers. */
export interface BrowserImageOptions {
  /** Channels out (default 3): 1 gray (luma), 3 RGB, 4 RGBA. */
  channels?: 1 | 3 | 4;
}

function isImageData(x: BrowserImageSource): x is ImageDataLike {
  return 'data' in x && (x.data instanceof Uint8ClampedArray || x.data instanceof Uint8Array);
}

function isCanvas(x: BrowserImageSource): x is CanvasLike {
  return typeof (x as CanvasLike).getContext === 'function';
}

/** Pixels of a drawable, through an OffscreenCanvas (or a <canvas> where OffscreenCanvas is missing). */
function drawToImageData(src: DrawableLike): ImageDataLike {
  const g = globalThis as {
    OffscreenCanvas?: new (w: number, h: number) => CanvasLike;
    document?: { createElement(tag: 'canvas'): CanvasLike & { width: number; height: number } };
  };
  let canvas: CanvasLike;
  if (g.OffscreenCanvas) canvas = new g.OffscreenCanvas(src.width, src.height);
  else if (g.document) {
    const c = g.document.createElement('canvas');
    c.width = src.width;
    c.height = src.height;
    canvas = c;
  } else {
    throw new ConvkitError('imageToBuffer: drawing an ImageBitmap or <img> needs OffscreenCanvas or a DOM; pass an ImageData instead');
  }
  const ctx = canvas.getContext('2d') as Context2D | null;
  if (!ctx) throw new ConvkitError('imageToBuffer: could not get a 2D canvas context');
  ctx.drawImage(src, 0, 0);
  return ctx.getImageData(0, 0, src.width, src.height);
}

/** The RGBA pixels of any browser image source. */
export function imageDataOf(src: BrowserImageSource): ImageDataLike {
  if (isImageData(src)) return src;
  if (!(src.width > 0 && src.height > 0)) {
    throw new ConvkitError(`imageToBuffer: the image is ${src.width}x${src.height}; wait for it to load (img.decode()) before converting`);
  }
  if (isCanvas(src)) {
    const ctx = src.getContext('2d') as Context2D | null;
    if (!ctx) throw new ConvkitError('imageToBuffer: the canvas has no 2D context (is it a WebGL canvas?); draw it into a 2D canvas first');
    return ctx.getImageData(0, 0, src.width, src.height);
  }
  return drawToImageData(src);
}

/** A browser image -> ImageBuffer [C, H, W] in [0, 1]. */
export function imageToBuffer(src: BrowserImageSource, opts: BrowserImageOptions = {}): ImageBuffer {
  const d = imageDataOf(src);
  const channels = d.data.length / (d.width * d.height);
  if (channels !== 4) {
    throw new ConvkitError(`imageToBuffer: ImageData of ${d.width}x${d.height} should hold ${d.width * d.height * 4} RGBA bytes, got ${d.data.length}`);
  }
  return convertChannels(fromInterleaved(d.data, d.width, d.height, 4), opts.channels ?? 3);
}

/** A browser image -> Tensor [C, H, W] in [0, 1]. */
export function imageToTensor3d(src: BrowserImageSource, opts: BrowserImageOptions = {}): Tensor {
  return imageToTensor(imageToBuffer(src, opts));
}

/**
 * Decodes in the browser: ImageData / canvas / ImageBitmap / <img>, or a Blob (a File from an
 * <input>, a fetch response's blob()) through createImageBitmap. Returns a [C, H, W] tensor.
 */
export async function decodeImage(src: BrowserImageSource | Blob, opts: BrowserImageOptions = {}): Promise<Tensor> {
  if (typeof Blob !== 'undefined' && src instanceof Blob) {
    const create = (globalThis as { createImageBitmap?: (b: Blob) => Promise<DrawableLike & { close?(): void }> }).createImageBitmap;
    if (!create) throw new ConvkitError('decodeImage: this environment has no createImageBitmap; in Node, use decodeImage from convkit/node');
    let bitmap: DrawableLike & { close?(): void };
    try {
      bitmap = await create(src);
    } catch (e) {
      throw new ConvkitError(`decodeImage: the ${src.type || 'blob'} of ${src.size} bytes is not an image the browser can decode (${(e as Error).message})`);
    }
    try {
      return imageToTensor3d(bitmap, opts);
    } finally {
      bitmap.close?.();
    }
  }
  return imageToTensor3d(src as BrowserImageSource, opts);
}

/** An image in [0, 1] -> RGBA ImageData-like pixels (gray repeated, alpha 1 when absent), to put on a canvas. */
export function toImageData(img: ImageLike): { data: Uint8ClampedArray; width: number; height: number } {
  const x = convertChannels(toImageBuffer(img, 'toImageData'), 4);
  const bytes = toInterleaved(x, 8);
  return { data: new Uint8ClampedArray(bytes.buffer, bytes.byteOffset, bytes.length), width: x.width, height: x.height };
}
