import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { ConvkitError } from '../../tensor/errors.js';
import { toImageBuffer, type ImageLike } from './image-buffer.js';
import { toInterleaved } from './pixels.js';
import { loadSharp } from './sharp.js';

/**
 * Encoding images with sharp (Node): PNG (lossless, 8 or 16 bits per channel), and JPEG or WebP
 * for compact copies. Values in [0, 1] map to the full integer range; values outside are
 * clamped. 1 channel is written as gray, 2 as gray + alpha, 3 as RGB, 4 as RGBA.
 */

export type ImageFormat = 'png' | 'jpeg' | 'webp';

/** Options of `encodeImage`. */
export interface EncodeOptions {
  /** PNG only: 8 (default) or 16 bits per channel. */
  bitDepth?: 8 | 16;
  /** JPEG / WebP quality 1-100 (default 90); WebP is lossless when `lossless` is set. */
  quality?: number;
  lossless?: boolean;
}

/** Encodes an image as PNG, JPEG or WebP bytes (Node, through sharp). */
export async function encodeImage(img: ImageLike, format: ImageFormat, opts: EncodeOptions = {}): Promise<Uint8Array> {
  const x = toImageBuffer(img, 'encodeImage');
  if (x.channels < 1 || x.channels > 4) throw new ConvkitError(`encodeImage: images have 1 to 4 channels, got ${x.channels}`);
  const bits = format === 'png' ? (opts.bitDepth ?? 8) : 8;
  if (bits !== 8 && bits !== 16) throw new ConvkitError(`encodeImage: bitDepth must be 8 or 16, got ${String(bits)}`);
  const sharp = await loadSharp();
  const pixels = toInterleaved(x, bits);
  let s = sharp(pixels, { raw: { width: x.width, height: x.height, channels: x.channels as 1 | 2 | 3 | 4 } });
  // Raw input is tagged sRGB; gray data must be tagged gray or it is written as RGB.
  const gray = x.channels <= 2;
  if (bits === 16) s = s.toColourspace(gray ? 'grey16' : 'rgb16');
  else if (gray) s = s.toColourspace('b-w');
  const quality = opts.quality ?? 90;
  switch (format) {
    case 'png':
      s = s.png();
      break;
    case 'jpeg':
      if (x.channels === 2 || x.channels === 4) s = s.removeAlpha();
      s = s.jpeg({ quality });
      break;
    case 'webp':
      s = s.webp({ quality, lossless: opts.lossless ?? false });
      break;
    default:
      throw new ConvkitError(`encodeImage: format must be 'png', 'jpeg' or 'webp', got '${String(format)}'`);
  }
  const out = await s.toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** PNG bytes of an image (lossless). */
export function encodePng(img: ImageLike, opts: { bitDepth?: 8 | 16 } = {}): Promise<Uint8Array> {
  return encodeImage(img, 'png', opts);
}

/** The format a file name asks for: .png, .jpg / .jpeg, .webp. */
export function formatOfPath(path: string): ImageFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.png') return 'png';
  if (ext === '.jpg' || ext === '.jpeg') return 'jpeg';
  if (ext === '.webp') return 'webp';
  throw new ConvkitError(`${path}: cannot tell the image format from the extension '${ext}'; use .png, .jpg or .webp`);
}

/** Writes an image file, its format from the extension; creates missing folders. */
export async function writeImage(path: string, img: ImageLike, opts: EncodeOptions = {}): Promise<void> {
  const bytes = await encodeImage(img, formatOfPath(path), opts);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}
