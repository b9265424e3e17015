import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose } from '../helpers/assert.js';

/**
 * The ONNX project's backend test data (pytorch-converted/, pytorch-operator/, light/), which
 * the repository does not vendor: $CONVKIT_ONNX_CONFORMANCE, else test/fixtures/onnx-conformance/
 * (filled by `npm run fetch:conformance`; docs/ARCHITECTURE.md). The tests that need it skip
 * with CONFORMANCE_MISSING when it is absent.
 */
export const CONFORMANCE_ROOT = process.env['CONVKIT_ONNX_CONFORMANCE']
  ? pathToFileURL(`${process.env['CONVKIT_ONNX_CONFORMANCE'].replace(/\/*$/, '')}/`)
  : new URL('../fixtures/onnx-conformance/', import.meta.url);

/** The skip message of the tests that need the conformance data. */
export const CONFORMANCE_MISSING =
  'ONNX conformance data not found; run `npm run fetch:conformance` (or set CONVKIT_ONNX_CONFORMANCE to a copy of onnx/backend/test/data)';

/**
 * expectClose at the ONNX runner's tolerances (rtol 1e-3, atol 1e-5), except that equal
 * infinities count as equal (some expected outputs overflow to Infinity, and |inf - inf| is NaN).
 */
export function expectMatches(actual: ck.Tensor, expected: ck.Tensor, what: string): void {
  expect(actual.shape, `${what} shape`).toEqual(expected.shape);
  const a = actual.dataSync();
  const b = expected.dataSync();
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i] && !Number.isFinite(b[i]!)) a[i] = b[i] = 0;
  }
  expectClose(a, b, { rtol: 1e-3, atol: 1e-5, what });
}

/** The input_N.pb or output_N.pb tensors of a case's test_data_set_0, in N order. */
export function readDataSet(caseDir: string, prefix: 'input_' | 'output_'): ck.Tensor[] {
  const set = join(caseDir, 'test_data_set_0');
  if (!existsSync(set)) return [];
  return readdirSync(set)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
    .sort((a, b) => Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]))
    .map((f) => ck.io.readOnnxTensor(readFileSync(join(set, f)), { name: f }));
}
