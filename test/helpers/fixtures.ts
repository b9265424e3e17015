import { readdirSync, readFileSync } from 'node:fs';
import * as ck from '../../src/index.js';

/**
 * Golden values from PyTorch, written by scripts/fixtures/make_torch_fixtures.py into
 * test/fixtures/torch/<family>.json (see scripts/fixtures/README.md to regenerate them).
 */

export interface FixtureTensor {
  shape: number[];
  /** Absent means float32. */
  dtype?: 'float32' | 'int32';
  data: number[];
}

export type FixtureAttrs = Record<string, unknown>;

export interface FixtureCase {
  name: string;
  /** convkit's op name: 'conv2d', 'maxPool2d', 'crossEntropy', ... */
  op: string;
  /** Named inputs in the op's argument order; optional ones absent when unused. */
  inputs: Record<string, FixtureTensor>;
  /** convkit's camelCase options. */
  attrs: FixtureAttrs;
  output: FixtureTensor;
  /** Side outputs, e.g. batchNorm's updated runningMean / runningVar. */
  extraOutputs?: Record<string, FixtureTensor>;
  /** Random tensor of the output's shape; grads are d(sum(output * gradOutput))/d(input). */
  gradOutput: FixtureTensor;
  /** One entry per differentiated input. */
  grads: Record<string, FixtureTensor>;
}

export interface FixtureFile {
  family: string;
  torchVersion: string;
  generator: string;
  reference: string;
  cases: FixtureCase[];
}

export const FIXTURE_DIR = new URL('../fixtures/torch/', import.meta.url);

/** The families present on disk ('conv', 'pool', ...), sorted. */
export function fixtureFamilies(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export function loadFixtures(family: string): FixtureFile {
  const file = JSON.parse(readFileSync(new URL(`${family}.json`, FIXTURE_DIR), 'utf8')) as FixtureFile;
  if (!Array.isArray(file.cases)) throw new Error(`fixture ${family}.json has no cases`);
  return file;
}

/** A convkit tensor holding a fixture's values (int32 for class-index targets). */
export function fixtureTensor(t: FixtureTensor, opts: { requiresGrad?: boolean } = {}): ck.Tensor {
  const dtype = t.dtype ?? 'float32';
  const data = dtype === 'int32' ? Int32Array.from(t.data) : Float32Array.from(t.data);
  return ck.tensor(data, t.shape, { dtype, requiresGrad: opts.requiresGrad === true && dtype === 'float32' });
}
