/**
 * The ONNX project's own backend tests (onnx/onnx, onnx/backend/test/data, Apache-2.0), read
 * from the ONNX project's backend test data (CONFORMANCE_ROOT in onnx-helpers.ts): every case under pytorch-converted/
 * and pytorch-operator/ is imported with ck.io.loadOnnx, run, and compared with its
 * output_N.pb at the ONNX runner's tolerances (rtol 1e-3, atol 1e-5).
 *
 * Skipped cases: none. All 65 cases pass, including the 1-d ones (Conv1d*, MaxPool1d*), which
 * run as 2-d operations with height 1, and the legacy opset-6 forms (broadcast attributes,
 * per-channel PRelu slopes, Pad attributes).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { describeEachBackend } from '../helpers/backends.js';
import { CONFORMANCE_MISSING, CONFORMANCE_ROOT, expectMatches, readDataSet } from './onnx-helpers.js';

const ROOT = fileURLToPath(CONFORMANCE_ROOT);

/** Case name -> why it is skipped. Empty: every case is supported. */
const SKIP: Record<string, string> = {};

function cases(folder: string): string[] {
  const dir = join(ROOT, folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => d.startsWith('test_'))
    .sort()
    .map((d) => join(dir, d));
}

const all = [...cases('pytorch-converted'), ...cases('pytorch-operator')];

if (all.length === 0) {
  describe('onnx conformance', () => {
    it.skip(`${CONFORMANCE_MISSING} (looked in ${ROOT})`, () => {});
  });
} else {
  describeEachBackend('onnx conformance', (backend) => {
    // describeEachBackend selects while collecting; select again for this block's tests.
    beforeAll(() => ck.setBackend(backend));
    for (const dir of all) {
      const name = dir.split(/[\\/]/).pop()!;
      const run = SKIP[name] ? it.skip : it;
      run(SKIP[name] ? `${name} (skipped: ${SKIP[name]})` : name, async () => {
        const model = await ck.io.loadOnnx(join(dir, 'model.onnx'));
        const outs = ck.noGrad(() => model.runAll(...readDataSet(dir, 'input_')));
        const want = readDataSet(dir, 'output_');
        expect(outs.length).toBeGreaterThanOrEqual(want.length);
        want.forEach((w, i) => expectMatches(outs[i]!, w, `${name} output ${i}`));
      });
    }
  });
}
