import { afterAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import * as ck from '../../src/node.js';
import { expectClose } from '../helpers/assert.js';
import { gradient, imageFrom, nested, pngBytes, tempFolder } from './image-fixtures.js';

/**
 * Decoding and encoding files with sharp, against PNGs written byte by byte (image-fixtures.ts),
 * and the bad-file cases: each error must name the file and say what is wrong.
 */

const img = ck.data.image;
const tmp = tempFolder();
afterAll(() => tmp.remove());

async function rejects(p: Promise<unknown>, ...patterns: (string | RegExp)[]): Promise<void> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a ConvkitError').toBeInstanceOf(ck.ConvkitError);
  for (const pat of patterns) expect((caught as Error).message).toMatch(typeof pat === 'string' ? new RegExp(pat.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pat);
}

describe('decodeImage', () => {
  it('reads 8-bit gray, gray + alpha, RGB and RGBA PNGs as [C, H, W] in [0, 1]', async () => {
    const gray = tmp.write('gray.png', pngBytes(3, 2, 1, [0, 51, 102, 153, 204, 255]));
    const t = await img.decodeImage(gray);
    expect(t.shape).toEqual([1, 2, 3]);
    expectClose(t, ck.tensor([[[0, 0.2, 0.4], [0.6, 0.8, 1]]]), { atol: 1e-7 });
    const ga = await img.decodeImageFile(tmp.write('ga.png', pngBytes(2, 1, 2, [10, 255, 20, 0])));
    expect([ga.channels, ga.height, ga.width]).toEqual([2, 1, 2]);
    expectClose(ga.data, [10 / 255, 20 / 255, 1, 0], { atol: 1e-7 });
    const rgb = await img.decodeImageFile(tmp.write('rgb.png', pngBytes(2, 1, 3, [255, 0, 0, 0, 0, 255])));
    expect(nested(rgb)).toEqual([[[1, 0]], [[0, 0]], [[0, 1]]]);
    const rgba = await img.decodeImageFile(tmp.write('rgba.png', pngBytes(1, 1, 4, [255, 128, 0, 51])));
    expectClose(rgba.data, [1, 128 / 255, 0, 0.2], { atol: 1e-7 });
  });

  it('keeps 16-bit precision (gray and RGB)', async () => {
    const g16 = await img.decodeImageFile(tmp.write('g16.png', pngBytes(2, 2, 1, [0, 1000, 65535, 30001], 16)));
    expectClose(g16.data, [0, 1000 / 65535, 1, 30001 / 65535], { atol: 1e-9, rtol: 1e-7 });
    const ga16 = await img.decodeImageFile(tmp.write('ga16.png', pngBytes(2, 1, 2, [500, 65535, 60000, 7], 16)));
    expect(ga16.channels).toBe(2);
    expectClose(ga16.data, [500, 60000, 65535, 7].map((v) => v / 65535), { atol: 1e-9, rtol: 1e-7 });
    const c16 = await img.decodeImageFile(tmp.write('c16.png', pngBytes(2, 1, 3, [1, 2, 3, 65535, 40000, 7], 16)));
    expectClose(c16.data, [1, 65535, 2, 40000, 3, 7].map((v) => v / 65535), { atol: 1e-9, rtol: 1e-7 });
  });

  it('converts channels on request: gray to RGB, RGBA to RGB, RGB to gray', async () => {
    const gray = tmp.write('gray2.png', pngBytes(1, 1, 1, [51]));
    expectClose((await img.decodeImageFile(gray, { channels: 3 })).data, [0.2, 0.2, 0.2], { atol: 1e-7 });
    const rgba = tmp.write('rgba2.png', pngBytes(1, 1, 4, [255, 0, 0, 9]));
    expectClose((await img.decodeImageFile(rgba, { channels: 3 })).data, [1, 0, 0], { atol: 1e-7 });
    expectClose((await img.decodeImageFile(rgba, { channels: 1 })).data, [0.299], { atol: 1e-6 });
  });

  it('reads JPEG (lossy: close) and WebP (lossless: exact)', async () => {
    const x = imageFrom(3, 8, 8, (c) => [0.8, 0.4, 0.2][c]!);
    const raw = Buffer.from(img.toInterleaved(x));
    const jpg = tmp.write('flat.jpg', await sharp(raw, { raw: { width: 8, height: 8, channels: 3 } }).jpeg({ quality: 95 }).toBuffer());
    expectClose((await img.decodeImageFile(jpg)).data, x.data, { atol: 3 / 255 });
    const g = gradient(3, 5, 7);
    const unit = imageFrom(3, 5, 7, (c, r, col) => g.data[(c * 5 + r) * 7 + col]! / 255);
    const webp = tmp.write('g.webp', await img.encodeImage(unit, 'webp', { lossless: true }));
    expectClose((await img.decodeImageFile(webp)).data, unit.data, { atol: 1e-6 });
  });

  it('applies the EXIF orientation (6: rotate 90 degrees clockwise to display)', async () => {
    const g = gradient(3, 3, 4);
    const unit = imageFrom(3, 3, 4, (c, r, col) => g.data[(c * 3 + r) * 4 + col]! / 255);
    const raw = Buffer.from(img.toInterleaved(unit));
    const tagged = await sharp(raw, { raw: { width: 4, height: 3, channels: 3 } }).withMetadata({ orientation: 6 }).webp({ lossless: true }).toBuffer();
    const path = tmp.write('oriented.webp', tagged);
    const upright = await img.decodeImageFile(path);
    expect([upright.channels, upright.height, upright.width]).toEqual([3, 4, 3]);
    expectClose(upright.data, img.rot90(unit, -1).data, { atol: 1e-6 });
    const asStored = await img.decodeImageFile(path, { autoOrient: false });
    expectClose(asStored.data, unit.data, { atol: 1e-6 });
    expect(await img.imageInfo(path)).toMatchObject({ width: 3, height: 4 });
  });

  it('names the file in every error: missing, empty, not an image, truncated, too many pixels', async () => {
    await rejects(img.decodeImage(`${tmp.dir}/nope.png`), 'nope.png: no such file');
    await rejects(img.decodeImage(tmp.write('empty.png', new Uint8Array(0))), 'empty.png: the file is empty');
    const text = tmp.write('notes.jpg', 'these are not pixels');
    await rejects(img.decodeImage(text), 'notes.jpg: not an image', '74 68 65 73');
    const png = pngBytes(16, 16, 3, Array.from({ length: 768 }, (_, i) => (i * 37) % 256));
    await rejects(img.decodeImage(tmp.write('cut.png', png.subarray(0, png.length - 40))), 'cut.png', /truncated or corrupt/);
    const noise = Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 251));
    const jpg = await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } }).jpeg().toBuffer();
    await rejects(img.decodeImage(tmp.write('cut.jpg', jpg.subarray(0, Math.floor(jpg.length / 2)))), 'cut.jpg: cannot decode the JPEG data', /truncated or corrupt/);
    await rejects(img.decodeImage(tmp.write('head.jpg', jpg.subarray(0, 100))), 'head.jpg: starts like a JPEG file but its header is truncated');
    const big = tmp.write('big.png', pngBytes(40, 30, 1, new Array(1200).fill(7)));
    await rejects(img.decodeImage(big, { maxPixels: 1000 }), 'big.png: 40x30 = 1,200 pixels is over the limit of 1,000');
    expect((await img.decodeImage(big, { maxPixels: 1200 })).shape).toEqual([1, 30, 40]);
    await rejects(img.decodeImageBytes(new Uint8Array([1, 2, 3, 4]), { name: 'upload #3' }), 'upload #3: not an image');
  });
});

describe('encode', () => {
  it('round-trips 8-bit PNG to within rounding, 16-bit to within 1/65535, keeping gray as gray', async () => {
    const x = imageFrom(1, 3, 5, (_c, r, col) => (r * 5 + col) / 14);
    const back8 = await img.decodeImageBytes(await img.encodePng(x));
    expect(back8.channels).toBe(1);
    expectClose(back8.data, x.data, { atol: 0.5 / 255 + 1e-7 });
    const back16 = await img.decodeImageBytes(await img.encodePng(x, { bitDepth: 16 }));
    expectClose(back16.data, x.data, { atol: 0.5 / 65535 + 1e-7 });
    const rgba = imageFrom(4, 2, 2, (c) => [0.1, 0.5, 0.9, 0.6][c]!);
    const back = await img.decodeImageBytes(await img.encodePng(rgba));
    expect(back.channels).toBe(4);
    expectClose(back.data, rgba.data, { atol: 0.5 / 255 + 1e-7 });
    const path = `${tmp.dir}/sub/out.png`;
    await img.writeImage(path, ck.tensor(Array.from(x.data), [1, 3, 5]));
    expect((await img.decodeImage(path)).shape).toEqual([1, 3, 5]);
  });

  it('clamps values outside [0, 1] and rejects unknown extensions', async () => {
    const x = imageFrom(1, 1, 3, (_c, _r, col) => [-0.5, 0.5, 2][col]!);
    expectClose((await img.decodeImageBytes(await img.encodePng(x))).data, [0, 128 / 255, 1], { atol: 1e-7 });
    await rejects(img.writeImage(`${tmp.dir}/x.bmp`, x), "x.bmp: cannot tell the image format from the extension '.bmp'");
  });
});

describe('browser sources', () => {
  it('ImageData-like objects and canvases become [C, H, W] tensors; toImageData goes back', async () => {
    const data = new Uint8ClampedArray([255, 0, 0, 255, 0, 255, 0, 128]);
    const t = img.imageToTensor3d({ data, width: 2, height: 1 });
    expect(t.shape).toEqual([3, 1, 2]);
    expect(t.toArray()).toEqual([[[1, 0]], [[0, 1]], [[0, 0]]]);
    const canvas = { width: 2, height: 1, getContext: () => ({ getImageData: () => ({ data, width: 2, height: 1 }), drawImage() {} }) };
    expect((await img.decodeImage(canvas, { channels: 4 })).shape).toEqual([4, 1, 2]);
    expect(img.imageToTensor3d(canvas, { channels: 1 }).shape).toEqual([1, 1, 2]);
    const back = img.toImageData(t);
    expect(Array.from(back.data)).toEqual([255, 0, 0, 255, 0, 255, 0, 255]);
  });
});
