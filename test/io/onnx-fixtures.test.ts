/**
 * ONNX import cases beyond the shared conformance data (scripts/fixtures/make_onnx_fixtures.py):
 * small PyTorch modules exported at several opsets (9 to 17), and hand-written graphs for what
 * exporters do not emit (auto_pad, asymmetric pads, even LRN sizes, ConvTranspose output_shape,
 * opset-18 axes inputs, MaxPool indices). Expected outputs come from PyTorch / NumPy.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { describeEachBackend } from '../helpers/backends.js';
import { expectMatches, readDataSet } from './onnx-helpers.js';

const ROOT = fileURLToPath(new URL('../fixtures/onnx/', import.meta.url));
const CASES = readdirSync(ROOT).sort();

describeEachBackend('onnx import fixtures', (backend) => {
  beforeAll(() => ck.setBackend(backend));
  for (const name of CASES) {
    it(name, async () => {
      const dir = join(ROOT, name);
      const model = await ck.io.loadOnnx(join(dir, 'model.onnx'));
      const outs = ck.noGrad(() => model.runAll(...readDataSet(dir, 'input_')));
      const want = readDataSet(dir, 'output_');
      expect(outs.length).toBe(want.length);
      want.forEach((w, i) => expectMatches(outs[i]!, w, `${name} output ${i} (${model.outputNames[i]})`));
    });
  }
});
