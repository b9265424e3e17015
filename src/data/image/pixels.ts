import { ConvkitError } from '../../tensor/errors.js';
import { imageBuffer, type ImageBuffer } from './image-buffer.js';

/**
 * Converting between the interleaved integer pixels that decoders, canvases and encoders use
 * (H x W x C: r, g, b, r, g, b, ...) and the planar float32 layout of tensors (C x H x W, values
 * in [0, 1]). 8-bit values are divided by 255, 16-bit ones by 65535.
 */

export type PixelArray = Uint8Array | Uint8ClampedArray | Uint16Array;

/** Interleaved HWC integers -> planar CHW float32 in [0, 1]. */
export function fromInterleaved(pixels: PixelArray, width: number, height: number, channels: number): ImageBuffer {
  const n = width * height;
  if (pixels.length !== n * channels) {
    throw new ConvkitError(
      `pixel data of ${width}x${height} with ${channels} channels needs ${n * channels} values, got ${pixels.length}`,
    );
  }
  const img = imageBuffer(channels, height, width);
  if (pixels instanceof Uint16Array) deinterleave(pixels, img.data, n, channels, 1 / 65535);
  else deinterleave(pixels, img.data, n, channels, 1 / 255);
  return img;
}

// Kept apart from fromInterleaved so that each call site sees one array type (a monomorphic, fast loop).
function deinterleave(pixels: ArrayLike<number>, out: Float32Array, n: number, channels: number, scale: number): void {
  for (let c = 0; c < channels; c++) {
    const plane = c * n;
    for (let i = 0, j = c; i < n; i++, j += channels) out[plane + i] = pixels[j]! * scale;
  }
}

/**
 * Planar CHW float32 -> interleaved HWC integers with `bits` per value: [0, 1] maps to
 * [0, 255] (or [0, 65535]), rounded to nearest; values outside [0, 1] are clamped.
 */
export function toInterleaved(img: ImageBuffer, bits: 8 | 16 = 8): Uint8Array | Uint16Array {
  const { channels, height, width, data } = img;
  const n = width * height;
  const max = bits === 16 ? 65535 : 255;
  const out = bits === 16 ? new Uint16Array(n * channels) : new Uint8Array(n * channels);
  for (let c = 0; c < channels; c++) {
    const plane = c * n;
    for (let i = 0, j = c; i < n; i++, j += channels) {
      const v = data[plane + i]!;
      // NaN clamps to 0 too (v > 0 is false).
      out[j] = v > 0 ? (v < 1 ? Math.round(v * max) : max) : 0;
    }
  }
  return out;
}

/** Planar float32 in [0, 1] -> planar uint8 (rounded, clamped), the compact form caches keep. */
export function quantize(values: Float32Array, out = new Uint8Array(values.length)): Uint8Array {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
  }
  return out;
}

const UNIT = new Float32Array(256).map((_, v) => v / 255);

/** Planar uint8 -> float32 in [0, 1], into `out` at `offset`. */
export function dequantize(bytes: Uint8Array, out: Float32Array, offset = 0): void {
  for (let i = 0; i < bytes.length; i++) out[offset + i] = UNIT[bytes[i]!]!;
}
