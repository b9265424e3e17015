import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import * as img from '../../src/data/image/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { gradient, imageFrom, nested } from './image-fixtures.js';

/**
 * Every transform against values worked out by hand on images whose pixels say where they came
 * from (gradient: 100 c + 10 r + col), plus the reproducibility of random transforms.
 */

const g = () => new ck.Generator(7);

describe('crop, pad and aspect', () => {
  const x = gradient(2, 4, 6);

  it('crop cuts a window of a known gradient', () => {
    expect(nested(img.crop(x, 1, 2, 2, 3))).toEqual([
      [[12, 13, 14], [22, 23, 24]],
      [[112, 113, 114], [122, 123, 124]],
    ]);
  });

  it('a window past the border is filled', () => {
    expect(nested(img.crop(gradient(1, 2, 2), -1, 1, 3, 2, { fill: -5 }))).toEqual([[[-5, -5], [1, -5], [11, -5]]]);
  });

  it('centerCrop takes the middle (odd pixel at the bottom / right)', () => {
    expect(nested(img.centerCrop(x, 2))[0]).toEqual([[12, 13], [22, 23]]);
    expect(nested(img.centerCrop(gradient(1, 5, 5), [3, 2]))[0]).toEqual([[11, 12], [21, 22], [31, 32]]);
  });

  it('cropToAspect keeps the largest centered window', () => {
    expect(nested(img.cropToAspect(x, 1))[0]).toEqual([[1, 2, 3, 4], [11, 12, 13, 14], [21, 22, 23, 24], [31, 32, 33, 34]]);
    const tall = img.cropToAspect(gradient(1, 6, 2), 1);
    expect(nested(tall)[0]).toEqual([[20, 21], [30, 31]]);
    expect(img.cropToAspect(gradient(1, 4, 6), 2).width).toBe(6);
    expect(img.cropToAspect(gradient(1, 4, 6), 2).height).toBe(3);
  });

  it('pads in constant, edge and reflect modes', () => {
    const row = imageFrom(1, 1, 3, (_c, _r, col) => col + 1);
    expect(nested(img.pad(row, [2, 0]))[0]).toEqual([[0, 0, 1, 2, 3, 0, 0]]);
    expect(nested(img.pad(row, [2, 0], { mode: 'edge' }))[0]).toEqual([[1, 1, 1, 2, 3, 3, 3]]);
    expect(nested(img.pad(row, [2, 0], { mode: 'reflect' }))[0]).toEqual([[3, 2, 1, 2, 3, 2, 1]]);
    expect(nested(img.pad(gradient(1, 2, 2), [1, 0, 0, 1], { fill: 9 }))[0]).toEqual([[9, 0, 1], [9, 10, 11], [9, 9, 9]]);
    expectConvkitError(() => img.pad(row, -1), 'padding must be whole numbers >= 0');
  });

  it('uniformAspect crops or pads to a square', () => {
    const wide = gradient(1, 2, 4);
    expect(nested(img.uniformAspect(wide))[0]).toEqual([[1, 2], [11, 12]]);
    expect(nested(img.uniformAspect(wide, { mode: 'pad', fill: -1 }))[0]).toEqual([
      [-1, -1, -1, -1],
      [0, 1, 2, 3],
      [10, 11, 12, 13],
      [-1, -1, -1, -1],
    ]);
    expect(img.uniformAspect(wide, { mode: 'stretch' })).toBe(wide);
  });

  it('works on tensors too, returning tensors', () => {
    const t = ck.tensor(Array.from(x.data), [2, 4, 6]);
    const c = img.centerCrop(t, 2);
    expect(c).toBeInstanceOf(ck.Tensor);
    expect(c.shape).toEqual([2, 2, 2]);
    expect(c.toArray()).toEqual(nested(img.centerCrop(x, 2)));
    expectConvkitError(() => img.hflip(ck.zeros([1, 1, 2, 2])), 'expected a float32 tensor [C, H, W]', '[1, 1, 2, 2]');
  });
});

describe('flips and rotations', () => {
  it('hflip and vflip mirror', () => {
    expect(nested(img.hflip(gradient(1, 2, 3)))[0]).toEqual([[2, 1, 0], [12, 11, 10]]);
    expect(nested(img.vflip(gradient(1, 2, 3)))[0]).toEqual([[10, 11, 12], [0, 1, 2]]);
  });

  it('rot90 turns counter-clockwise as numpy.rot90', () => {
    // np.rot90([[0, 1, 2], [10, 11, 12]]) = [[2, 12], [1, 11], [0, 10]]
    expect(nested(img.rot90(gradient(1, 2, 3)))[0]).toEqual([[2, 12], [1, 11], [0, 10]]);
    // np.rot90(m, -1) = [[10, 0], [11, 1], [12, 2]]
    expect(nested(img.rot90(gradient(1, 2, 3), -1))[0]).toEqual([[10, 0], [11, 1], [12, 2]]);
    expect(nested(img.rot90(gradient(1, 2, 3), 2))[0]).toEqual([[12, 11, 10], [2, 1, 0]]);
  });

  it('rotate by 90 degrees about the center equals rot90 exactly (odd and even sizes)', () => {
    for (const n of [3, 4]) {
      const x = gradient(2, n, n);
      expectClose(img.rotate(x, 90).data, img.rot90(x, 1).data, { atol: 1e-9, rtol: 0 });
      expectClose(img.rotate(x, -90).data, img.rot90(x, -1).data, { atol: 1e-9, rtol: 0 });
      expectClose(img.rotate(x, 180).data, img.rot90(x, 2).data, { atol: 1e-9, rtol: 0 });
    }
  });

  it('positive angles turn counter-clockwise as displayed: a dot right of center goes to the top', () => {
    const dot = imageFrom(1, 3, 3, (_c, r, col) => (r === 1 && col === 2 ? 1 : 0));
    expect(nested(img.rotate(dot, 90))[0]).toEqual([[0, 1, 0], [0, 0, 0], [0, 0, 0]]);
    expect(nested(img.rotate(dot, -90))[0]).toEqual([[0, 0, 0], [0, 0, 0], [0, 1, 0]]);
  });

  it('affine translation shifts and fills; a half-pixel shift interpolates', () => {
    const x = gradient(1, 2, 3);
    expect(nested(img.affine(x, { translate: [1, 0] }, { fill: -1 }))[0]).toEqual([[-1, 0, 1], [-1, 10, 11]]);
    expect(nested(img.affine(x, { translate: [0.5, 0] }, { fill: 0 }))[0]).toEqual([[0, 0.5, 1.5], [5, 10.5, 11.5]]);
    expect(nested(img.affine(x, { translate: [0, 1] }, { interpolation: 'nearest', fill: 7 }))[0]).toEqual([[7, 7, 7], [0, 1, 2]]);
  });

  it('affine scaling by 2 about the center samples at half steps', () => {
    // 1-row ramp 0..4, center 2: output x samples input 2 + (x - 2) / 2.
    const ramp = imageFrom(1, 1, 5, (_c, _r, col) => col);
    expect(Array.from(img.affine(ramp, { scale: 2 }).data)).toEqual([1, 1.5, 2, 2.5, 3]);
  });

  it('affineMatrix composes about the center and inverts', () => {
    const m = img.affineMatrix({ angle: 30, scale: 1.5, shear: [10, 5], translate: [2, -1] }, 10, 20);
    const back = img.composeAffine(img.invertAffine(m), m);
    expectClose(back, [1, 0, 0, 0, 1, 0], { atol: 1e-12 });
    // The center moves only by the translation.
    const [a, b, c, d, e, f] = m;
    expectClose([a * 9.5 + b * 4.5 + c, d * 9.5 + e * 4.5 + f], [11.5, 3.5], { atol: 1e-12 });
  });
});

describe('resize', () => {
  const twoByTwo = imageFrom(1, 2, 2, (_c, r, col) => 1 + 2 * r + col);

  it('bilinear upscaling gives PyTorch interpolate(align_corners=False)', () => {
    // F.interpolate(torch.tensor([[[[1., 2], [3, 4]]]]), size=4, mode='bilinear', align_corners=False)
    expect(nested(img.resize(twoByTwo, 4))[0]).toEqual([
      [1, 1.25, 1.75, 2],
      [1.5, 1.75, 2.25, 2.5],
      [2.5, 2.75, 3.25, 3.5],
      [3, 3.25, 3.75, 4],
    ]);
  });

  it('area downscaling averages the footprint, fractions included', () => {
    const x = gradient(1, 4, 4);
    expect(nested(img.resize(x, 2, { method: 'area' }))[0]).toEqual([[5.5, 7.5], [25.5, 27.5]]);
    const row = imageFrom(1, 1, 3, (_c, _r, col) => [3, 6, 9][col]!);
    // footprints [0, 1.5) and [1.5, 3): (3 + 0.5 * 6) / 1.5 and (0.5 * 6 + 9) / 1.5
    expectClose(img.resize(row, [1, 2], { method: 'area' }).data, [4, 8], { atol: 1e-6 });
  });

  it('nearest picks the pixel under each output center', () => {
    expect(nested(img.resize(gradient(1, 1, 4), [1, 2], { method: 'nearest' }))[0]).toEqual([[1, 3]]);
  });

  it('bilinear downscaling: antialiased (triangle widened by the scale) or point-sampled', () => {
    const row = imageFrom(1, 1, 4, (_c, _r, col) => col);
    // Output 0, center 1.0: taps at pixels 0, 1, 2 with weights 0.75, 0.75, 0.25 (pixel -1 is outside), normalised.
    expectClose(img.resize(row, [1, 2]).data, [(0.75 + 0.5) / 1.75, (0.25 * 1 + 0.75 * 2 + 0.75 * 3) / 1.75], { atol: 1e-6 });
    expectClose(img.resize(row, [1, 2], { antialias: false }).data, [0.5, 2.5], { atol: 1e-6 });
  });

  it('Lanczos-3 keeps constants, reproduces a ramp inside, and matches its formula on an impulse', () => {
    const flat = imageFrom(3, 5, 7, () => 0.4);
    expectClose(img.resize(flat, [9, 4], { method: 'lanczos' }).data, new Array(3 * 9 * 4).fill(0.4), { atol: 1e-6 });
    // Downscaling by 3 puts output i's center on input pixel 3i + 1: the weights are symmetric
    // about it, so away from the borders a ramp comes out exactly as the ramp at 3i + 1.
    const ramp = imageFrom(1, 1, 60, (_c, _r, col) => col);
    const down = img.resize(ramp, [1, 20], { method: 'lanczos' }).data;
    for (let i = 4; i < 16; i++) expect(down[i]).toBeCloseTo(3 * i + 1, 4);
    const L = (t: number) => (t === 0 ? 1 : (3 * Math.sin(Math.PI * t) * Math.sin((Math.PI * t) / 3)) / (Math.PI * Math.PI * t * t));
    const impulse = imageFrom(1, 1, 7, (_c, _r, col) => (col === 3 ? 1 : 0));
    const out = img.resize(impulse, [1, 14], { method: 'lanczos' }).data;
    // Output 6 has center 3.25: input pixel j sits at j + 0.5 - 3.25.
    const weights = [0, 1, 2, 3, 4, 5].map((j) => L(j + 0.5 - 3.25));
    expect(out[6]).toBeCloseTo(L(0.25) / weights.reduce((a, b) => a + b, 0), 6);
  });

  it('resizes each channel alike and rejects bad sizes', () => {
    const x = imageFrom(2, 3, 3, (c, r, col) => (c === 0 ? r + col : 10 * (r + col)));
    const y = img.resize(x, [5, 2], { method: 'lanczos' });
    expectClose(y.data.subarray(10), Array.from(y.data.subarray(0, 10), (v) => 10 * v), { atol: 1e-5 });
    expectConvkitError(() => img.resize(x, 0), 'size must be a whole number >= 1');
  });
});

describe('colour, grayscale, normalization', () => {
  it('grayscale uses the BT.601 luma weights', () => {
    const rgb = imageFrom(3, 1, 2, (c, _r, col) => (col === 0 ? [1, 0.5, 0][c]! : 0.2));
    expectClose(img.rgbToGrayscale(rgb).data, [0.299 + 0.2935, 0.2], { atol: 1e-6 });
    expect(img.rgbToGrayscale(rgb, { outputChannels: 3 }).channels).toBe(3);
    expect(img.toChannels(imageFrom(1, 1, 1, () => 0.3), 4).data).toEqual(Float32Array.from([0.3, 0.3, 0.3, 1]));
    expect(img.toChannels(imageFrom(4, 1, 1, (c) => [0.1, 0.2, 0.3, 0.5][c]!), 3).data).toEqual(Float32Array.from([0.1, 0.2, 0.3]));
    expectConvkitError(() => img.rgbToGrayscale(imageFrom(1, 1, 1, () => 0)), 'expected an RGB or RGBA image');
  });

  it('brightness, contrast and saturation blend with black, the mean gray and the grayscale', () => {
    const x = imageFrom(1, 1, 2, (_c, _r, col) => [0.2, 0.6][col]!);
    expectClose(img.adjustBrightness(x, 0.5).data, [0.1, 0.3], { atol: 1e-6 });
    expectClose(img.adjustBrightness(x, 2).data, [0.4, 1], { atol: 1e-6 });
    expectClose(img.adjustContrast(x, 0).data, [0.4, 0.4], { atol: 1e-6 });
    expectClose(img.adjustContrast(x, 2).data, [0, 0.8], { atol: 1e-6 });
    const rgb = imageFrom(3, 1, 1, (c) => [1, 0, 0][c]!);
    expectClose(img.adjustSaturation(rgb, 0).data, [0.299, 0.299, 0.299], { atol: 1e-6 });
  });

  it('normalizes per channel, per pixel, or rescales; denormalize inverts', () => {
    const x = imageFrom(2, 1, 2, (c, _r, col) => c + col);
    const perChannel: img.Normalization = { kind: 'standardize', per: 'channel', mean: [0.5, 1.5], std: [0.5, 2] };
    expect(Array.from(img.normalize(x, perChannel).data)).toEqual([-1, 1, -0.25, 0.25]);
    const perPixel: img.Normalization = { kind: 'standardize', per: 'pixel', mean: [0, 1, 1, 1], std: [1, 1, 0, 2] };
    // A zero std (a pixel constant in training) only subtracts the mean.
    expect(Array.from(img.normalize(x, perPixel).data)).toEqual([0, 0, 0, 0.5]);
    expect(Array.from(img.normalize(x, { kind: 'rescale', range: [0, 255] }).data)).toEqual([0, 255, 255, 510]);
    expectClose(img.denormalize(img.normalize(x, perChannel), perChannel).data, x.data, { atol: 1e-6 });
    expectConvkitError(() => img.normalize(x, { ...perPixel, mean: [0], std: [1] }), 'per-pixel statistics of length 1', '[2, 1, 2] = 4');
  });
});

describe('statistics', () => {
  it('mean and std images and per-channel numbers of a known set', () => {
    // Three 2-channel 1x2 images; pixel (c=0, col=0) takes 1, 2, 3 -> mean 2, population std sqrt(2/3).
    const set = [
      imageFrom(2, 1, 2, (c, _r, col) => (c === 0 ? [1, 5][col]! : 0)),
      imageFrom(2, 1, 2, (c, _r, col) => (c === 0 ? [2, 5][col]! : 1)),
      imageFrom(2, 1, 2, (c, _r, col) => (c === 0 ? [3, 5][col]! : 2)),
    ];
    const s = img.computeStatistics(set);
    expect(s.count).toBe(3);
    expectClose(s.mean.data, [2, 5, 1, 1], { atol: 1e-6 });
    expectClose(s.std.data, [Math.sqrt(2 / 3), 0, Math.sqrt(2 / 3), Math.sqrt(2 / 3)], { atol: 1e-6 });
    // Channel 0 holds 1, 2, 3, 5, 5, 5: mean 3.5, variance (6.25 + 2.25 + 0.25 + 3 * 2.25) / 6.
    expectClose(s.channelMean, [3.5, 1], { atol: 1e-12 });
    expectClose(s.channelStd, [Math.sqrt(15.5 / 6), Math.sqrt(2 / 3)], { atol: 1e-12 });
    const sample = img.computeStatistics(set, { ddof: 1 });
    expectClose(sample.std.data.subarray(0, 1), [1], { atol: 1e-6 });
  });

  it('merging accumulators equals one pass, and Welford stays accurate on a large offset', () => {
    const gen = new ck.Generator(3);
    const images = Array.from({ length: 50 }, () => imageFrom(1, 2, 2, () => 1e4 + gen.uniform()));
    const one = new img.ImageStatistics();
    images.forEach((x) => one.add(x));
    const a = new img.ImageStatistics();
    const b = new img.ImageStatistics();
    images.forEach((x, i) => (i < 20 ? a : b).add(x));
    const merged = a.merge(b).result();
    const direct = one.result();
    expectClose(merged.std.data, direct.std.data, { rtol: 1e-6, atol: 0 });
    // A plain two-pass computation in float64 (the values as float32, as stored).
    for (let p = 0; p < 4; p++) {
      const v = images.map((x) => x.data[p]!);
      const m = v.reduce((s, y) => s + y, 0) / v.length;
      const sd = Math.sqrt(v.reduce((s, y) => s + (y - m) ** 2, 0) / v.length);
      expect(Math.abs(direct.std.data[p]! - sd)).toBeLessThan(1e-6);
    }
  });

  it('rejects images of another size, naming it', () => {
    const s = new img.ImageStatistics();
    s.add(imageFrom(1, 2, 2, () => 0));
    expectConvkitError(() => s.add(imageFrom(1, 3, 2, () => 0), 'b.png'), 'b.png is [1, 3, 2]', '[1, 2, 2]');
  });

  it('stdForDisplay scales the largest std to white', () => {
    expect(Array.from(img.stdForDisplay(imageFrom(1, 1, 3, (_c, _r, col) => col * 0.1)).data)).toEqual([0, 0.5, 1]);
  });
});

describe('PCA and whitening', () => {
  it('Jacobi finds the eigenvalues and vectors of a known matrix', () => {
    const e = img.symmetricEigen([2, 1, 0, 1, 2, 0, 0, 0, 5], 3);
    expectClose(e.values, [5, 3, 1], { atol: 1e-12 });
    expectClose(e.vectors.subarray(0, 3), [0, 0, 1], { atol: 1e-12 });
    expectClose(e.vectors.subarray(3, 6), [Math.SQRT1_2, Math.SQRT1_2, 0], { atol: 1e-12 });
    expectClose(e.vectors.subarray(6, 9).map(Math.abs), [Math.SQRT1_2, Math.SQRT1_2, 0], { atol: 1e-12 });
    expectConvkitError(() => img.symmetricEigen([1, 2, 3, 4], 2), 'not symmetric');
  });

  it('fits the main direction of points along a line, and whitening gives identity covariance', () => {
    const gen = new ck.Generator(11);
    const points = Array.from({ length: 400 }, () => {
      const t = gen.normal() * 3;
      const n = gen.normal() * 0.5;
      // Along (1, 1) / sqrt 2 with std 3, across it with std 0.5, around (1, 2).
      return imageFrom(2, 1, 1, (c) => (c === 0 ? 1 + (t - n) * Math.SQRT1_2 : 2 + (t + n) * Math.SQRT1_2));
    });
    const pca = img.fitPca(points, { components: 2 });
    expectClose(pca.components.subarray(0, 2), [Math.SQRT1_2, Math.SQRT1_2], { atol: 0.02 });
    expect(pca.eigenvalues[0]! / pca.eigenvalues[1]!).toBeGreaterThan(20);
    expectClose(pca.mean, [1, 2], { atol: 0.4 });
    for (const whiten of ['pca', 'zca'] as const) {
      const w = img.fitPca(points, { whiten, eps: 0 });
      const out = points.map((p) => w.apply(p).data);
      const cov = [0, 0, 0];
      for (const o of out) {
        cov[0]! += o[0]! * o[0]!;
        cov[1]! += o[0]! * o[1]!;
        cov[2]! += o[1]! * o[1]!;
      }
      expectClose(cov.map((v) => v / out.length), [1, 0, 1], { atol: 1e-4 });
    }
    const viaDataset = img.fitPca(img.datasetImages({ length: 2, sampleShape: [2, 1, 1], get: (i) => ({ input: points[i]!.data }) }, [0, 1]));
    expect(viaDataset.k).toBe(2);
    const one = img.fitPca(points, { components: 1 });
    const back = one.reconstruct(one.project(points[0]!));
    expect(back.channels).toBe(2);
    const json = JSON.parse(JSON.stringify(one.toJSON())) as img.PcaJson;
    expectClose(new img.Pca(json).project(points[5]!), one.project(points[5]!), { atol: 1e-6 });
    expectConvkitError(() => img.fitPca([imageFrom(3, 32, 32, () => 0)]), '3072 values', 'grayscale');
  });
});

describe('random transforms and pipelines', () => {
  const x = gradient(3, 8, 8);

  it('RandomCrop with padding draws top then left from the generator', () => {
    const t = new img.RandomCrop(8, { padding: 2 });
    const gen = g();
    const top = new ck.Generator(7).int(13 - 8);
    const out = t.apply(x, gen);
    const state = new ck.Generator(7);
    const expTop = state.int(12 - 8 + 1);
    const expLeft = state.int(12 - 8 + 1);
    expect(top).toBeGreaterThanOrEqual(0);
    expect(nested(out)).toEqual(nested(img.crop(x, expTop - 2, expLeft - 2, 8, 8)));
    expectConvkitError(() => new img.RandomCrop(20).apply(x, g()), 'a 20x20 crop does not fit in a 8x8 image');
  });

  it('flips with probability p, and rotation by [90, 90] is a quarter turn', () => {
    expect(nested(new img.RandomHorizontalFlip(1).apply(x, g()))).toEqual(nested(img.hflip(x)));
    expect(new img.RandomHorizontalFlip(0).apply(x, g())).toBe(x);
    expect(nested(new img.RandomVerticalFlip(1).apply(x, g()))).toEqual(nested(img.vflip(x)));
    expectClose(new img.RandomRotation([90, 90]).apply(x, g()).data, img.rot90(x).data, { atol: 1e-9 });
  });

  it('the same seed gives the same augmented image; JSON round trips rebuild the pipeline', () => {
    const pipeline = new img.Compose([
      new img.RandomCrop(8, { padding: 1, padMode: 'reflect' }),
      new img.RandomHorizontalFlip(),
      new img.RandomAffine({ degrees: 15, translate: [0.1, 0.1], scale: [0.9, 1.1], shear: 5 }),
      new img.RandomScale([0.8, 1.2]),
      new img.ColorJitter({ brightness: 0.3, contrast: 0.3, saturation: 0.3 }),
      new img.RandomResizedCrop(6),
      img.Normalize.perChannel([0.5, 0.5, 0.5], [0.2, 0.2, 0.2]),
    ]);
    const unit = imageFrom(3, 8, 8, (c, r, col) => ((c + 1) * (r * 8 + col)) / 200);
    const a = pipeline.applySeeded(unit, 42);
    const b = pipeline.applySeeded(unit, 42);
    const c = pipeline.applySeeded(unit, 43);
    expect(a.data).toEqual(b.data);
    expect(a.data).not.toEqual(c.data);
    expect([a.channels, a.height, a.width]).toEqual([3, 6, 6]);
    expect(pipeline.outputShape([3, 8, 8])).toEqual([3, 6, 6]);
    const rebuilt = img.transformFromJSON(JSON.parse(JSON.stringify(pipeline.toJSON())) as img.TransformSpec);
    expect(rebuilt.applySeeded(unit, 42).data).toEqual(a.data);
    expectConvkitError(() => new img.InputPipeline({ size: 8 }, pipeline), 'the transform Compose is random', 'ImageLoader');
    const input = new img.InputPipeline({ size: 4, channels: 1 }, new img.Normalize({ kind: 'rescale', range: [-1, 1] }));
    expect(input.outputShape()).toEqual([1, 4, 4]);
    expect(input.apply(unit).shape).toEqual([1, 4, 4]);
    expectConvkitError(() => img.transformFromJSON({ type: 'Sharpen' }), "unknown image transform type 'Sharpen'", 'RandomCrop');
  });

  it('a pipeline is a DataLoader transform: reproducible from the loader seed', () => {
    const data = ck.rand([6, 3, 8, 8], { seed: 1 });
    const ds = new ck.data.TensorDataset(data, ck.tensor([0, 1, 0, 1, 0, 1], [6]));
    const aug = new img.Compose([new img.RandomCrop(8, { padding: 2 }), new img.RandomHorizontalFlip(), new img.ColorJitter({ brightness: 0.5 })]);
    const run = () =>
      [...new ck.data.DataLoader(ds, { batchSize: 3, shuffle: true, generator: new ck.Generator(5), transform: aug.asSampleTransform() })].map((b) =>
        b.x.dataSync(),
      );
    const [r1, r2] = [run(), run()];
    expect(r1).toEqual(r2);
    expect(r1[0]).not.toEqual(data.dataSync().subarray(0, 3 * 192));
    const shrink = new img.CenterCrop(4).asSampleTransform();
    expectConvkitError(() => [...new ck.data.DataLoader(ds, { transform: shrink })], 'must keep the sample shape [3, 8, 8]', '[3, 4, 4]');
  });

  it('deterministic steps: Resize, CenterCrop, UniformAspect, Pad, ToChannels, Grayscale agree with the functions', () => {
    const y = gradient(3, 6, 10);
    const steps = new img.Compose([new img.UniformAspect({ mode: 'pad' }), new img.Resize(5, { method: 'area' }), new img.Pad(1), new img.CenterCrop(4), new img.Grayscale()]);
    const manual = img.centerCrop(img.pad(img.resize(img.uniformAspect(y, { mode: 'pad' }), 5, { method: 'area' }), 1), 4);
    expectClose(steps.apply(y, g()).data, img.rgbToGrayscale(manual).data, { atol: 1e-4 });
    expect(steps.outputShape([3, 6, 10])).toEqual([1, 4, 4]);
    expect(new img.ToChannels(1).outputShape([3, 2, 2])).toEqual([1, 2, 2]);
    expect(new img.Compose([new img.UniformAspect({ aspect: 2 })]).outputShape([3, 10, 10])).toEqual([3, 5, 10]);
  });
});
