import { ConvkitError, fmtShape } from '../../../tensor/errors.js';
import { Generator, globalGenerator } from '../../../tensor/random.js';
import type { SampleTransform } from '../../data-loader.js';
import { asImageShape, mapImage, type ImageBuffer, type ImageLike, type ImageShape } from '../image-buffer.js';

/**
 * The transform protocol of the preprocessing / augmentation pipeline. A transform is a small
 * object with options (plain JSON) and `apply(image, generator)`; random transforms draw every
 * random number from the generator they are given, so a seed reproduces them exactly. Being
 * JSON, a pipeline can be rebuilt in a worker thread (to spread augmentation over the cores)
 * and saved with a model (so that predict applies the same preprocessing).
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A transform as JSON: its registered type and its options. */
export interface TransformSpec {
  type: string;
  [option: string]: JsonValue;
}

/** The base of every preprocessing and augmentation transform (see the top of this file). */
export abstract class Transform {
  /** The registered type name, e.g. 'RandomCrop'. */
  abstract readonly type: string;
  /** True when apply draws from the generator. */
  abstract readonly random: boolean;
  /** Transforms one image; random transforms draw only from `generator`. */
  abstract apply(img: ImageBuffer, generator: Generator): ImageBuffer;
  /** The options that rebuild this transform (without `type`). */
  protected abstract options(): { [key: string]: JsonValue };

  /** The shape apply produces from an input shape (a check before any data flows). */
  outputShape(input: ImageShape): ImageShape {
    return input;
  }

  /** This transform as JSON (`transformFromJSON` rebuilds it). */
  toJSON(): TransformSpec {
    return { type: this.type, ...this.options() };
  }

  /** Applies to an image or a [C, H, W] tensor, returning the same kind (generator: the global one by default). */
  forward<T extends ImageLike>(img: T, generator: Generator = globalGenerator): T {
    return mapImage(img, this.type, (x) => this.apply(x, generator));
  }

  /** Applies with a fresh generator seeded with `seed`: how loaders make each sample's randomness independent of the others. */
  applySeeded(img: ImageBuffer, seed: number): ImageBuffer {
    return this.apply(img, new Generator(seed));
  }

  /**
   * This transform as the DataLoader's per-sample hook: each sample draws one seed from the
   * loader's generator and runs with its own generator from that seed. The transform must
   * keep the sample's shape (DataLoader batches have one shape).
   */
  asSampleTransform(): SampleTransform {
    return (x, generator, shape) => {
      const [c, h, w] = asImageShape(shape, `${this.type} in a DataLoader`);
      const out = this.applySeeded({ data: x, channels: c, height: h, width: w }, generator.nextUint32());
      if (out.data.length !== x.length || out.channels !== c || out.height !== h || out.width !== w) {
        throw new ConvkitError(
          `${this.type}: as a DataLoader transform it must keep the sample shape ${fmtShape(shape)}, but it made ` +
            `${fmtShape([out.channels, out.height, out.width])}; resize in the dataset (e.g. ImageFolder's size) instead`,
        );
      }
      if (out.data !== x) x.set(out.data);
    };
  }
}

type Factory = (spec: TransformSpec) => Transform;
const registry = new Map<string, Factory>();

/** Makes a transform type rebuildable from JSON (in workers and when loading a model). */
export function registerTransform(type: string, factory: Factory): void {
  registry.set(type, factory);
}

export function registeredTransforms(): string[] {
  return [...registry.keys()].sort();
}

export function transformFromJSON(spec: TransformSpec): Transform {
  const factory = registry.get(spec?.type);
  if (!factory) {
    throw new ConvkitError(
      `unknown image transform type '${String(spec?.type)}'; known: ${registeredTransforms().join(', ')}. ` +
        'A custom transform must be registered with registerTransform (in worker threads too: pass its module in workerModules)',
    );
  }
  return factory(spec);
}

/** Reads an option from a spec, checking its JSON type. */
export function option<T extends JsonValue>(spec: TransformSpec, key: string, check: (v: JsonValue) => v is T): T | undefined {
  const v = spec[key];
  if (v === undefined) return undefined;
  if (!check(v)) throw new ConvkitError(`image transform ${spec.type}: option ${key} has an unexpected value ${JSON.stringify(v)}`);
  return v;
}

export const isNumber = (v: JsonValue): v is number => typeof v === 'number';
export const isString = (v: JsonValue): v is string => typeof v === 'string';
export const isBool = (v: JsonValue): v is boolean => typeof v === 'boolean';
export const isNumbers = (v: JsonValue): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');
export const isNumberOrNumbers = (v: JsonValue): v is number | number[] => isNumber(v) || isNumbers(v);

/** Uniform in [lo, hi) from the generator. */
export function uniform(g: Generator, lo: number, hi: number): number {
  return lo + (hi - lo) * g.uniform();
}

/** A range from a number r (-> [-r, r], or [center - r, center + r]) or a pair, checked. */
export function symmetricRange(v: number | readonly number[], what: string, center = 0, min = -Infinity): [number, number] {
  const [lo, hi] = typeof v === 'number' ? [center - v, center + v] : [v[0], v[1]];
  if (lo === undefined || hi === undefined || !(lo <= hi) || (typeof v === 'number' && v < 0)) {
    throw new ConvkitError(`${what}: expected a number >= 0 or a range [min, max] with min <= max, got ${JSON.stringify(v)}`);
  }
  return [Math.max(min, lo), hi];
}
