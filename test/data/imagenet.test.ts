import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { decodeImageFile } from '../../src/data/image/decode.js';
import { expectConvkitError } from '../helpers/assert.js';

const DIR = new URL('../fixtures/torchvision/', import.meta.url);

describe('ImageNet preprocessing and labels', () => {
  it("matches torchvision's Resize -> CenterCrop -> ToTensor -> Normalize on a PIL image", async () => {
    // 41x29 picture, Resize(32) -> 45x32 (int(32 * 41 / 29) = 45), CenterCrop(24): top 4, left round(10.5) = 10.
    const expected = JSON.parse(readFileSync(new URL('preprocess.json', DIR), 'utf8')) as { resize: number; crop: number; output: { shape: number[]; data: number[] } };
    const img = await decodeImageFile(fileURLToPath(new URL('preprocess.png', DIR)));
    expect([img.height, img.width]).toEqual([29, 41]);
    const x = ck.data.imagenetPreprocess(img, { resize: expected.resize, crop: expected.crop });
    expect([x.channels, x.height, x.width]).toEqual(expected.output.shape);
    // PIL resamples in 8-bit fixed point and convkit in floats, both rounding to 8 bits: a
    // pixel may differ by one level (1/255/std ~ 0.018 after normalizing). A crop one pixel
    // off, or no antialiasing, averages ~7.7 levels off on this picture.
    const std = [0.229, 0.224, 0.225];
    let worst = 0;
    let sum = 0;
    for (let i = 0; i < x.data.length; i++) {
      const levels = (Math.abs(x.data[i]! - expected.output.data[i]!) * std[Math.floor(i / (24 * 24))]!) * 255;
      worst = Math.max(worst, levels);
      sum += levels;
    }
    expect(worst).toBeLessThan(1.5);
    expect(sum / x.data.length).toBeLessThan(0.5);
  });

  it('has the 1,000 ImageNet classes in torchvision order', () => {
    const names = ck.data.IMAGENET_CLASSES;
    expect(names).toHaveLength(1000);
    expect(new Set(names).size).toBeGreaterThan(995); // ImageNet repeats "crane" and "maillot"
    expect([names[0], names[1], names[281], names[999]]).toEqual(['tench', 'goldfish', 'tabby', 'toilet tissue']);
  });

  it('refuses crops larger than the resize', () => {
    const img = { data: new Float32Array(3 * 8 * 8), channels: 3, height: 8, width: 8 };
    expectConvkitError(() => ck.data.imagenetPreprocess(img, { resize: 8, crop: 9 }), 'crop 9 is larger');
    expectConvkitError(() => ck.data.imagenetPreprocess(img, { resize: 0 }), 'resize must be a positive integer');
  });
});
