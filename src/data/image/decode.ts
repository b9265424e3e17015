import { existsSync, readFileSync, statSync } from 'node:fs';
import { ConvkitError } from '../../tensor/errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { decodeImage as decodeBrowserImage, type BrowserImageSource } from './browser.js';
import { convertChannels } from './grayscale.js';
import { imageToTensor, type ImageBuffer } from './image-buffer.js';
import { fromInterleaved } from './pixels.js';
import { loadSharp } from './sharp.js';

/**
 * Decoding image files in Node with sharp (libvips): JPEG, PNG and WebP (and GIF, TIFF, AVIF),
 * 8 or 16 bits per channel, gray, gray + alpha, RGB or RGBA, EXIF orientation applied. Every
 * failure is a ConvkitError naming the file: missing, not an image, truncated or corrupt, or
 * larger than the pixel limit (checked from the header, before any pixel is decoded).
 */

/** Default pixel limit: 100 megapixels (a 10,000 x 10,000 image), far above any training image. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

const FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heif'];

/** Options of `decodeImage`. */
export interface DecodeOptions {
  /** Channels out: 'keep' (default: as stored, 1 to 4), or 1, 2, 3, 4 (converted, see toChannels). */
  channels?: 'keep' | 1 | 2 | 3 | 4;
  /** Refuse images with more pixels than this (default DEFAULT_MAX_PIXELS). */
  maxPixels?: number;
  /** Apply the EXIF orientation tag (default true), so photos come out upright. */
  autoOrient?: boolean;
  /** A name for error messages when decoding bytes (default 'image bytes'). */
  name?: string;
}

function hexStart(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** The format the first bytes announce (magic numbers), or null. */
export function sniffFormat(bytes: Uint8Array): string | null {
  const b = bytes;
  const ascii = (from: number, n: number) => String.fromCharCode(...b.subarray(from, from + n));
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'JPEG';
  if (b[0] === 0x89 && ascii(1, 3) === 'PNG') return 'PNG';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') return 'WebP';
  if (ascii(0, 4) === 'GIF8') return 'GIF';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'TIFF';
  return null;
}

/** The file's bytes, or a clear error for a missing path, a folder, or an empty file. */
export function readImageFile(path: string): Uint8Array {
  if (!existsSync(path)) throw new ConvkitError(`${path}: no such file`);
  if (statSync(path).isDirectory()) throw new ConvkitError(`${path}: is a folder, expected an image file`);
  const bytes = readFileSync(path);
  if (bytes.length === 0) throw new ConvkitError(`${path}: the file is empty (0 bytes), not an image`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes bytes of an image file into an ImageBuffer [C, H, W] in [0, 1] (16-bit files keep their precision). */
export async function decodeImageBytes(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<ImageBuffer> {
  const name = opts.name ?? 'image bytes';
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(maxPixels > 0)) throw new ConvkitError(`decodeImage: maxPixels must be a positive number, got ${maxPixels}`);
  const sharp = await loadSharp();
  // One instance for the header and the pixels; the pixel limit is checked by hand between the
  // two, so that the error can give the image's dimensions.
  let pipeline = sharp(bytes, { limitInputPixels: false, failOn: 'truncated' });
  let meta;
  try {
    meta = await pipeline.metadata();
  } catch (e) {
    const detail = (e as Error).message.split('\n')[0];
    const format = sniffFormat(bytes);
    throw new ConvkitError(
      format
        ? `${name}: starts like a ${format} file but its header is truncated or corrupt (${detail}); ` +
            `the file is only ${bytes.length} bytes: re-export or download it again`
        : `${name}: not an image convkit can decode (JPEG, PNG, WebP, GIF, TIFF or AVIF): ${detail}; ` +
            `the file is ${bytes.length} bytes starting ${hexStart(bytes)}`,
    );
  }
  if (!FORMATS.includes(meta.format ?? '')) {
    throw new ConvkitError(`${name}: ${meta.format} images are not supported; convert it to PNG or JPEG (supported: ${FORMATS.join(', ')})`);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width * height > maxPixels) {
    throw new ConvkitError(
      `${name}: ${width}x${height} = ${(width * height).toLocaleString('en-US')} pixels is over the limit of ` +
        `${maxPixels.toLocaleString('en-US')} (maxPixels); raise the limit if this image is genuine, or downscale it first`,
    );
  }
  const deep = meta.depth === 'ushort';
  if (opts.autoOrient ?? true) pipeline = pipeline.autoOrient();
  // libvips writes raw pixels as sRGB unless told otherwise: 16-bit data needs a 16-bit
  // colourspace, gray data 'b-w'; gray + alpha comes out as RGBA, reduced to 2 channels below.
  const storedChannels = meta.channels ?? 3;
  if (storedChannels === 1) pipeline = pipeline.toColourspace(deep ? 'grey16' : 'b-w');
  else if (deep) pipeline = pipeline.toColourspace('rgb16');
  let raw: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    raw = await pipeline.raw(deep ? { depth: 'ushort' } : {}).toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new ConvkitError(
      `${name}: cannot decode the ${meta.format?.toUpperCase()} data of this ${width}x${height} image: it is truncated or corrupt ` +
        `(${(e as Error).message.split('\n')[0]}); re-export or download the file again`,
    );
  }
  const { info, data } = raw;
  const pixels = deep ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let img = fromInterleaved(pixels, info.width, info.height, info.channels);
  if (storedChannels === 2 && info.channels === 4) {
    const plane = info.width * info.height;
    const ga = new Float32Array(2 * plane);
    ga.set(img.data.subarray(0, plane));
    ga.set(img.data.subarray(3 * plane), plane);
    img = { ...img, channels: 2, data: ga };
  }
  const channels = opts.channels ?? 'keep';
  return channels === 'keep' ? img : convertChannels(img, channels);
}

/** Decodes an image file into an ImageBuffer [C, H, W] in [0, 1]. */
export async function decodeImageFile(path: string, opts: DecodeOptions = {}): Promise<ImageBuffer> {
  return decodeImageBytes(readImageFile(path), { ...opts, name: opts.name ?? path });
}

/**
 * Decodes to a [C, H, W] float32 tensor in [0, 1]: a file path or the bytes of a file in Node,
 * or (as in the browser) an ImageData, canvas or ImageBitmap.
 */
export async function decodeImage(input: string | Uint8Array | BrowserImageSource, opts: DecodeOptions = {}): Promise<Tensor> {
  if (typeof input === 'string') return imageToTensor(await decodeImageFile(input, opts));
  if (input instanceof Uint8Array) return imageToTensor(await decodeImageBytes(input, opts));
  const channels = opts.channels === 'keep' || opts.channels === 2 ? 4 : opts.channels;
  return decodeBrowserImage(input, channels === undefined ? {} : { channels });
}

/** Width, height and channels from the header only (fast: no pixels decoded). */
export async function imageInfo(path: string): Promise<{ width: number; height: number; channels: number; format: string }> {
  const sharp = await loadSharp();
  const bytes = readImageFile(path);
  try {
    const m = await sharp(bytes, { limitInputPixels: false }).metadata();
    const swap = (m.orientation ?? 1) >= 5;
    return { width: (swap ? m.height : m.width) ?? 0, height: (swap ? m.width : m.height) ?? 0, channels: m.channels ?? 0, format: m.format ?? '' };
  } catch (e) {
    throw new ConvkitError(`${path}: not an image convkit can decode: ${(e as Error).message}; it is ${bytes.length} bytes starting ${hexStart(bytes)}`);
  }
}
