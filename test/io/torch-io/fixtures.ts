import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import * as ck from '../../../src/index.js';

/** test/fixtures/torch-io, written by scripts/fixtures/make_torch_io_fixtures.py. */
export const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'torch-io');

export interface ExpectedTensor {
  shape: number[];
  dtype: string;
  /** Bits of the float32 conversion (floats). */
  bits?: number[];
  /** Integer values. */
  values?: number[];
}

export interface ExpectedFile {
  tensors: Record<string, ExpectedTensor>;
  keys?: string[];
  metadata?: Record<string, string>;
  picked?: string;
}

export const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as {
  torchVersion: string;
  files: Record<string, ExpectedFile>;
};

export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, name)));
}

/** The tensor has PyTorch's shape and exactly its values (floats compared bit for bit). */
export function expectTensor(t: ck.Tensor | undefined, want: ExpectedTensor, what: string): void {
  expect(t, what).toBeInstanceOf(ck.Tensor);
  const got = t!;
  expect(got.shape, `${what} shape`).toEqual(want.shape);
  const v = got.values();
  if (want.bits) {
    expect(got.dtype, `${what} dtype`).toBe('float32');
    expect([...new Uint32Array(Float32Array.from(v).buffer)], `${what} bits`).toEqual(want.bits);
  } else {
    expect(got.dtype, `${what} dtype`).toBe('int32');
    expect([...v], `${what} values`).toEqual(want.values);
  }
}

/** Every expected tensor is in `got` with its values, and nothing else is. */
export function expectDict(got: Map<string, ck.Tensor>, want: ExpectedFile, what: string): void {
  expect([...got.keys()].sort(), `${what} keys`).toEqual(Object.keys(want.tensors).sort());
  for (const [k, w] of Object.entries(want.tensors)) expectTensor(got.get(k), w, `${what}: ${k}`);
}
