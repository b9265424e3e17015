import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { imageBuffer, type ImageBuffer } from '../../src/data/image/image-buffer.js';

/**
 * Test images built independently of convkit's own encoder: PNG files written byte by byte
 * (signature, IHDR, IDAT, IEND), so that decoding 8- and 16-bit, gray and colour PNGs is checked
 * against values we chose, and images from simple formulas (gradients, shapes) whose crops,
 * flips and statistics can be computed by hand.
 */

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(Buffer.from(type, 'latin1'), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * A PNG of width x height with 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA) channels, from
 * interleaved integer samples (0-255 for 8 bits, 0-65535 for 16).
 */
export function pngBytes(width: number, height: number, channels: 1 | 2 | 3 | 4, samples: ArrayLike<number>, bitDepth: 8 | 16 = 8): Uint8Array {
  const colorType = { 1: 0, 2: 4, 3: 2, 4: 6 }[channels];
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([bitDepth, colorType, 0, 0, 0], 8);
  const bps = bitDepth / 8;
  const rowBytes = width * channels * bps;
  const rawRows = new Uint8Array(height * (rowBytes + 1));
  const rv = new DataView(rawRows.buffer);
  for (let r = 0; r < height; r++) {
    const base = r * (rowBytes + 1);
    rawRows[base] = 0; // filter: none
    for (let i = 0; i < width * channels; i++) {
      const s = samples[r * width * channels + i]!;
      if (bps === 1) rawRows[base + 1 + i] = s;
      else rv.setUint16(base + 1 + 2 * i, s);
    }
  }
  const sig = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);
  const parts = [sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rawRows)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** An image whose value at (c, r, col) is f(c, r, col). */
export function imageFrom(channels: number, height: number, width: number, f: (c: number, r: number, col: number) => number): ImageBuffer {
  const img = imageBuffer(channels, height, width);
  for (let c = 0; c < channels; c++) for (let r = 0; r < height; r++) for (let col = 0; col < width; col++) img.data[(c * height + r) * width + col] = f(c, r, col);
  return img;
}

/** The gradient test image: value 100 c + 10 r + col, so every pixel says where it came from. */
export function gradient(channels: number, height: number, width: number): ImageBuffer {
  return imageFrom(channels, height, width, (c, r, col) => 100 * c + 10 * r + col);
}

/** Nested [c][r][col] arrays of an image, for readable expectations. */
export function nested(img: ImageBuffer): number[][][] {
  return Array.from({ length: img.channels }, (_, c) =>
    Array.from({ length: img.height }, (_, r) => Array.from(img.data.subarray((c * img.height + r) * img.width, (c * img.height + r + 1) * img.width))),
  );
}

export function tempFolder(prefix = 'convkit-img-'): { dir: string; write(rel: string, bytes: Uint8Array | string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    write(rel, bytes) {
      const path = join(dir, rel);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, bytes);
      return path;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The classes of the generated shapes dataset: a shape and its colour family. */
export const SHAPE_CLASSES = ['circle', 'cross', 'square', 'triangle'] as const;
const SHAPE_COLOURS: Record<(typeof SHAPE_CLASSES)[number], [number, number, number]> = {
  circle: [0.9, 0.2, 0.2],
  cross: [0.95, 0.95, 0.95],
  square: [0.2, 0.8, 0.3],
  triangle: [0.25, 0.35, 0.95],
};

/**
 * One picture of `shape` on a dark noisy background: width x height pixels, the shape centered
 * near the middle with a random offset and size, its colour jittered. `rand` gives uniforms in [0, 1).
 */
export function shapeImage(shape: (typeof SHAPE_CLASSES)[number], width: number, height: number, rand: () => number): ImageBuffer {
  const s = Math.min(width, height);
  const cx = width / 2 + (rand() - 0.5) * 0.2 * s;
  const cy = height / 2 + (rand() - 0.5) * 0.2 * s;
  const r = s * (0.25 + 0.1 * rand());
  const colour = SHAPE_COLOURS[shape].map((v) => Math.min(1, Math.max(0, v + (rand() - 0.5) * 0.2)));
  const bg = 0.1 + 0.15 * rand();
  const inside = (x: number, y: number): boolean => {
    const dx = x - cx;
    const dy = y - cy;
    switch (shape) {
      case 'circle':
        return dx * dx + dy * dy <= r * r;
      case 'square':
        return Math.abs(dx) <= r * 0.85 && Math.abs(dy) <= r * 0.85;
      case 'cross':
        return (Math.abs(dx) <= r * 0.3 && Math.abs(dy) <= r) || (Math.abs(dy) <= r * 0.3 && Math.abs(dx) <= r);
      case 'triangle':
        return dy <= r * 0.8 && dy >= -r && Math.abs(dx) <= ((dy + r) / 1.8) * 1.0;
    }
  };
  const img = imageBuffer(3, height, width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const hit = inside(x + 0.5, y + 0.5);
      for (let c = 0; c < 3; c++) img.data[(c * height + y) * width + x] = hit ? colour[c]! : bg + 0.05 * (rand() - 0.5);
    }
  }
  return img;
}

/** A tiny seeded uniform generator for fixtures (independent of convkit's Generator). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}
