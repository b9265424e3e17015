import { ConvkitError } from '../tensor/errors.js';
import type { Generator } from '../tensor/random.js';
import type { SampleTransform } from '../data/data-loader.js';
import { Compose } from '../data/image/transforms/compose.js';
import { ColorJitter } from '../data/image/transforms/color-jitter.js';
import { RandomAffine } from '../data/image/transforms/random-affine.js';
import { RandomCrop } from '../data/image/transforms/random-crop.js';
import { RandomErasing } from '../data/image/transforms/random-erasing.js';
import { RandomHorizontalFlip } from '../data/image/transforms/random-flip.js';
import type { Transform } from '../data/image/transforms/transform.js';

/**
 * `convkit train --augment <spec>`: none, a preset, or a comma list of transforms with an
 * optional parameter each, applied in the order given to each training image in pixel space
 * (values in [0, 1]), before the normalization:
 *
 *   crop[:pad]     random crop of the image's own size after `pad` pixels of zeros on every side
 *                  (default: 2 for images up to 28 pixels, else 1/8 of the side: 4 for 32x32)
 *   flip[:p]       horizontal flip with probability p (default 0.5); refused for the digits
 *   affine[:deg]   rotation by up to +-deg degrees (default 10), bilinear, zeros outside
 *   erase[:p]      random erasing (torchvision's RandomErasing, value 0) with probability p (default 0.5)
 *   jitter[:s]     brightness, contrast and saturation factors in [1 - s, 1 + s] (default 0.2); RGB only
 *
 * Presets: standard = crop, plus flip except for the digits (a mirrored digit is another
 * symbol); strong = standard + erase, plus jitter for RGB images.
 */

export const AUGMENT_PRESETS = ['none', 'standard', 'strong'] as const;
export const AUGMENT_TRANSFORMS = ['crop', 'flip', 'affine', 'erase', 'jitter'] as const;
type Kind = (typeof AUGMENT_TRANSFORMS)[number];

/** What the spec is applied to: the dataset's name (digits refuse flips) and the sample shape [C, H, W]. */
export interface AugmentTarget {
  data: string;
  shape: readonly [number, number, number];
}

export const AUGMENT_HELP =
  'training-image augmentation: none, standard (crop + horizontal flip, no flip for the digits), ' +
  'strong (standard + random erasing, + colour jitter for RGB), or a list such as crop:2,flip,affine:10,erase:0.25,jitter:0.2';

/** Whether flipping the data left-right shows another class (the digits). */
export function mirrorChangesClass(data: string): boolean {
  return data === 'digits' || data === 'mnist';
}

/** The default crop padding for images of this size: 2 up to 28 pixels (MNIST's usual), else 1/8 of the side (CIFAR's 4 at 32). */
export function defaultCropPadding(h: number, w: number): number {
  const side = Math.min(h, w);
  return side <= 28 ? 2 : Math.round(side / 8);
}

/** The list a preset stands for, for these data. */
export function presetItems(preset: string, target: AugmentTarget): string[] {
  const rgb = target.shape[0] === 3;
  const standard = ['crop', ...(mirrorChangesClass(target.data) ? [] : ['flip'])];
  if (preset === 'standard') return standard;
  if (preset === 'strong') return [...standard, 'erase', ...(rgb ? ['jitter'] : [])];
  return [];
}

/**
 * The spec as a list of transforms (null for none). Throws a ConvkitError naming the part
 * that is wrong: an unknown name, a bad parameter, a repeat, flip on digits, jitter on grayscale.
 */
export function parseAugment(spec: string, target: AugmentTarget): Transform | null {
  const text = spec.trim();
  if (text === '' || text === 'none') return null;
  const items = (AUGMENT_PRESETS as readonly string[]).includes(text) ? presetItems(text, target) : text.split(',').map((s) => s.trim());
  const seen = new Set<string>();
  const transforms = items.map((item) => {
    const [name, param, ...more] = item.split(':');
    if (!name || !(AUGMENT_TRANSFORMS as readonly string[]).includes(name)) {
      throw new ConvkitError(
        `--augment: unknown transform '${item}'; give none, a preset (${AUGMENT_PRESETS.slice(1).join(', ')}) or a comma list of ${AUGMENT_TRANSFORMS.join(', ')} (each with an optional :value), e.g. crop:2,flip,erase:0.25`,
      );
    }
    if (more.length) throw new ConvkitError(`--augment: '${item}' has more than one parameter; write ${name}:value`);
    if (seen.has(name)) throw new ConvkitError(`--augment: ${name} is given twice`);
    seen.add(name);
    const value = param === undefined ? undefined : Number(param);
    if (param !== undefined && (param.trim() === '' || !Number.isFinite(value))) throw new ConvkitError(`--augment: '${item}': the parameter must be a number`);
    return makeTransform(name as Kind, value, target);
  });
  return transforms.length === 0 ? null : new Compose(transforms);
}

function makeTransform(kind: Kind, value: number | undefined, { data, shape }: AugmentTarget): Transform {
  const [c, h, w] = shape;
  const inRange = (v: number, lo: number, hi: number, what: string) => {
    if (!(v >= lo && v <= hi)) throw new ConvkitError(`--augment: ${kind}:${v}: ${what}`);
    return v;
  };
  switch (kind) {
    case 'crop': {
      const pad = value ?? defaultCropPadding(h, w);
      if (!Number.isInteger(pad) || pad < 0 || pad >= Math.min(h, w)) {
        throw new ConvkitError(`--augment: crop:${pad}: the padding must be a whole number of pixels from 0 to ${Math.min(h, w) - 1} for ${w}x${h} images`);
      }
      return new RandomCrop([h, w], { padding: pad });
    }
    case 'flip':
      if (mirrorChangesClass(data)) throw new ConvkitError(`--augment: flip mirrors the ${data} into other symbols (a mirrored 2 is no 2); leave flip out for them (the standard preset does)`);
      return new RandomHorizontalFlip(inRange(value ?? 0.5, 0, 1, 'the flip probability must be in [0, 1]'));
    case 'affine':
      return new RandomAffine({ degrees: inRange(value ?? 10, 0, 180, 'the rotation must be from 0 to 180 degrees') });
    case 'erase':
      return new RandomErasing({ p: inRange(value ?? 0.5, 0, 1, 'the erasing probability must be in [0, 1]') });
    case 'jitter': {
      if (c !== 3) throw new ConvkitError(`--augment: jitter changes colours and needs RGB images; these have ${c} channel${c === 1 ? '' : 's'} (use --channels 3, or leave jitter out)`);
      const s = inRange(value ?? 0.2, 0, 1, 'the jitter strength must be in [0, 1]');
      return new ColorJitter({ brightness: s, contrast: s, saturation: s });
    }
  }
}

/** The transforms of a spec in words, for the training log: 'RandomCrop(pad 2), RandomHorizontalFlip(0.5)'. */
export function describeAugment(t: Transform | null): string {
  if (!t) return 'none';
  const list = t instanceof Compose ? t.transforms : [t];
  return list
    .map((x) => {
      const j = x.toJSON();
      const { type, ...rest } = j;
      if (type === 'RandomCrop') return `crop (padding ${(rest['padding'] as number[])[0]})`;
      if (type === 'RandomHorizontalFlip') return `flip (p ${rest['p']})`;
      if (type === 'RandomAffine') return `rotate (+-${(rest['degrees'] as number[])[1]} deg)`;
      if (type === 'RandomErasing') return `erase (p ${rest['p']})`;
      if (type === 'ColorJitter') return `jitter (${(rest['brightness'] as number[]).map((v) => Number(v.toFixed(3))).join('-')})`;
      return type;
    })
    .join(', ');
}

/**
 * A DataLoader hook: the augmentation, drawing one seed per sample from `generator` (its own,
 * saved in checkpoints, so the shuffle does not depend on whether augmentation is on), then
 * `after` (the normalization).
 *
 * It runs in the loader, on the training thread, rather than on the image worker pool: for the
 * in-memory sets (digits, Fashion-MNIST, CIFAR-10, a cached image folder) crop + flip + erase
 * cost a few percent of a training step of even LeNet-5 at batch 128 (measured: see the commit
 * that added it), and worker threads would take cores from the compute backend's own threads.
 * affine (a bilinear warp) and jitter (three colour passes) cost several times more per image;
 * they are the candidates for ImageLoader's prefetch on the pool if they ever matter. An image
 * folder too large to cache is decoded on the pool before the hook runs.
 */
export function augmentTransform(augment: Transform, generator: Generator, after?: SampleTransform): SampleTransform {
  const hook = augment.asSampleTransform();
  return (x, loaderGenerator, shape) => {
    hook(x, generator, shape);
    after?.(x, loaderGenerator, shape);
  };
}
