import { describe, expect, it } from 'vitest';
import { Generator } from '../../src/tensor/random.js';
import { augmentTransform, type AugmentTarget, defaultCropPadding, describeAugment, parseAugment } from '../../src/cli/augment-spec.js';
import { Compose } from '../../src/data/image/transforms/compose.js';
import { expectConvkitError } from '../helpers/assert.js';

/** `convkit train --augment`: spec parsing, presets per dataset, errors, and the seeded loader hook. */

const fashion: AugmentTarget = { data: 'fashion-mnist', shape: [1, 28, 28] };
const digits: AugmentTarget = { data: 'digits', shape: [1, 28, 28] };
const cifar: AugmentTarget = { data: 'cifar10', shape: [3, 32, 32] };
const types = (spec: string, target = fashion) => {
  const t = parseAugment(spec, target);
  return t ? (t as Compose).transforms.map((x) => x.toJSON()) : null;
};

describe('--augment spec', () => {
  it('none and an empty spec mean no augmentation', () => {
    expect(parseAugment('none', fashion)).toBeNull();
    expect(parseAugment(' ', fashion)).toBeNull();
  });

  it('a list with parameters, in the order given', () => {
    expect(types('crop:2,flip,affine:10,erase:0.25,jitter:0.2', cifar)).toEqual([
      { type: 'RandomCrop', size: [32, 32], padding: [2, 2, 2, 2] },
      { type: 'RandomHorizontalFlip', p: 0.5 },
      { type: 'RandomAffine', degrees: [-10, 10] },
      { type: 'RandomErasing', p: 0.25, scale: [0.02, 0.33], ratio: [0.3, 3.3], value: 0 },
      { type: 'ColorJitter', brightness: [0.8, 1.2], contrast: [0.8, 1.2], saturation: [0.8, 1.2] },
    ]);
    expect(types('flip:0.3, crop')).toEqual([
      { type: 'RandomHorizontalFlip', p: 0.3 },
      { type: 'RandomCrop', size: [28, 28], padding: [2, 2, 2, 2] },
    ]);
  });

  it('crop pads 2 pixels up to 28x28 and 1/8 of the side above (4 for 32x32)', () => {
    expect([defaultCropPadding(28, 28), defaultCropPadding(32, 32), defaultCropPadding(64, 64), defaultCropPadding(20, 24)]).toEqual([2, 4, 8, 2]);
    expect(types('crop', cifar)![0]!['padding']).toEqual([4, 4, 4, 4]);
  });

  it('presets: standard flips except the digits; strong adds erasing, and jitter for RGB', () => {
    expect(types('standard')!.map((t) => t.type)).toEqual(['RandomCrop', 'RandomHorizontalFlip']);
    expect(types('standard', digits)!.map((t) => t.type)).toEqual(['RandomCrop']);
    expect(types('strong')!.map((t) => t.type)).toEqual(['RandomCrop', 'RandomHorizontalFlip', 'RandomErasing']);
    expect(types('strong', digits)!.map((t) => t.type)).toEqual(['RandomCrop', 'RandomErasing']);
    expect(types('strong', cifar)!.map((t) => t.type)).toEqual(['RandomCrop', 'RandomHorizontalFlip', 'RandomErasing', 'ColorJitter']);
    // An image folder (any other name) flips.
    expect(types('standard', { data: 'photos/', shape: [3, 64, 64] })!.map((t) => t.type)).toEqual(['RandomCrop', 'RandomHorizontalFlip']);
  });

  it('refuses bad specs with errors that say what to write', () => {
    expectConvkitError(() => parseAugment('crop,rotate', fashion), /unknown transform 'rotate'.*crop, flip, affine, erase, jitter/);
    expectConvkitError(() => parseAugment('crop:x', fashion), /'crop:x': the parameter must be a number/);
    expectConvkitError(() => parseAugment('crop:', fashion), /the parameter must be a number/);
    expectConvkitError(() => parseAugment('crop:1:2', fashion), /more than one parameter/);
    expectConvkitError(() => parseAugment('crop,crop:3', fashion), /crop is given twice/);
    expectConvkitError(() => parseAugment('crop:1.5', fashion), /whole number of pixels from 0 to 27/);
    expectConvkitError(() => parseAugment('crop:28', fashion), /from 0 to 27/);
    expectConvkitError(() => parseAugment('flip:2', fashion), /probability must be in \[0, 1\]/);
    expectConvkitError(() => parseAugment('erase:-0.1', fashion), /erasing probability/);
    expectConvkitError(() => parseAugment('affine:200', fashion), /from 0 to 180 degrees/);
    expectConvkitError(() => parseAugment('flip', digits), /mirrors the digits into other symbols/);
    expectConvkitError(() => parseAugment('jitter', fashion), /needs RGB images; these have 1 channel/);
    expectConvkitError(() => parseAugment('strong,flip', fashion), /unknown transform 'strong'/);
  });

  it('describes itself for the log', () => {
    expect(describeAugment(parseAugment('strong', cifar))).toBe('crop (padding 4), flip (p 0.5), erase (p 0.5), jitter (0.8-1.2)');
    expect(describeAugment(null)).toBe('none');
  });

  it('the loader hook draws from its own generator, then runs the normalization', () => {
    const t = parseAugment('crop,flip,erase', fashion)!;
    const run = (seed: number) => {
      const g = new Generator(seed);
      const loaderGen = new Generator(99);
      const calls: number[] = [];
      const hook = augmentTransform(t, g, (x) => {
        calls.push(x.length);
        for (let i = 0; i < x.length; i++) x[i] = x[i]! * 2 - 1;
      });
      const x = new Float32Array(784).map((_, i) => (i % 28) / 28);
      hook(x, loaderGen, [1, 28, 28]);
      hook(x, loaderGen, [1, 28, 28]);
      return { x: Array.from(x), calls, loaderState: loaderGen.getState(), state: g.getState() };
    };
    const a = run(1);
    expect(a).toEqual(run(1));
    expect(a.x).not.toEqual(run(2).x);
    expect(a.calls).toEqual([784, 784]);
    // The loader's generator (the shuffle) is untouched: turning augmentation on does not change the order.
    expect(a.loaderState).toEqual(new Generator(99).getState());
    expect(a.state).not.toEqual(new Generator(1).getState());
  });
});
