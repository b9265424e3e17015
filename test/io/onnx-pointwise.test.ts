/**
 * ONNX for every declared pointwise op (src/ops/pointwise/table.ts), from its declaration: each
 * tested setting exported inside a small model at the operator's own opset and (where it has a
 * decomposition) at an older one, run by onnxruntime-node, re-imported, and compared with
 * convkit (checkExport); ONNX's operator written with attributes other than convkit's fixed
 * ones (Selu's own constants), or leaving them to ONNX's defaults (HardSigmoid's alpha 0.2),
 * imports as ONNX defines it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { POINTWISE_OPS } from '../../src/ops/pointwise/all.js';
import { decodeModel } from '../../src/io/onnx/proto.js';
import { makeModel } from './onnx-builder.js';
import { checkExport, expectAgrees, loadOrt, runOrt, useFastBackend } from './onnx-export-helpers.js';

const nn = ck.nn as unknown as Record<string, new (opts?: object) => ck.nn.Module>;

function settings(d: (typeof POINTWISE_OPS)[number]): Record<string, number | string>[] {
  if (!d.param) return [{}];
  return [{}, ...(d.param.samples ?? []).map((v) => ({ [d.param!.name]: v }))];
}

/** The opsets each op is exported at: its operator's (at least 11), and 11 when it has a decomposition. */
function opsets(d: (typeof POINTWISE_OPS)[number]): number[] {
  const own = Math.max(11, d.onnx.since);
  return d.onnx.decompose && own > 11 ? [11, own] : [own];
}

describe.runIf(loadOrt() !== null)('declared pointwise ops through ONNX (onnxruntime-node)', () => {
  beforeAll(async () => {
    await useFastBackend();
  });

  for (const d of POINTWISE_OPS) {
    for (const opts of settings(d)) {
      for (const opset of opsets(d)) {
        it(`${d.layer}(${JSON.stringify(opts)}) at opset ${opset}`, async () => {
          const x = ck.F.mul(ck.randn([2, 3, 4, 5], { seed: 3 }), 4);
          const model = new ck.nn.Sequential(new ck.nn.Conv2d(3, 3, 1), new nn[d.layer]!(opts));
          const what = `${d.layer} opset ${opset}`;
          const bytes = ck.io.exportOnnx(model, { inputShape: [3, 4, 5], opset });
          if (!decodeModel(bytes).graph!.node!.some((n) => n.op_type === 'Erf')) {
            await checkExport(model, x, { inputShape: [3, 4, 5], opset }, what);
            return;
          }
          // The exact GELU before opset 20 uses Erf, which onnxruntime runs and convkit's importer does not have.
          model.eval();
          const want = ck.noGrad(() => model.forward(x));
          const [got] = await runOrt(bytes, [x]);
          expectAgrees(got!.data, want.dataSync(), `${what} (onnxruntime)`);
          expect(() => ck.io.loadOnnxBytes(bytes)).toThrow(/Erf/);
        });
      }
    }
  }

  it('an operator written with other fixed attributes than convkit\'s imports as ONNX defines it', async () => {
    for (const d of POINTWISE_OPS.filter((p) => p.onnx.fixed && p.onnx.op)) {
      // Each fixed attribute moved by a quarter: ONNX's function with these, not convkit's.
      const attrs = Object.fromEntries(Object.entries(d.onnx.fixed!).map(([k, v]) => [k, { float: v * 1.25 }]));
      const bytes = makeModel({
        nodes: [{ op: d.onnx.op, inputs: ['x'], outputs: ['y'], attrs }],
        inputs: [{ name: 'x', dims: [2, 8] }],
        outputs: ['y'],
        opset: Math.max(13, d.onnx.since),
      });
      const x = ck.F.mul(ck.randn([2, 8], { seed: 5 }), 4);
      const [want] = await runOrt(bytes, [x]);
      const got = ck.io.loadOnnxBytes(bytes, { name: d.onnx.op }).forward(x);
      expectAgrees(got.dataSync(), want!.data, `${d.onnx.op} with other attributes`);
      // Without the attributes: ONNX's defaults (HardSigmoid's alpha 0.2, not PyTorch's 1/6).
      const bare = makeModel({
        nodes: [{ op: d.onnx.op, inputs: ['x'], outputs: ['y'] }], inputs: [{ name: 'x', dims: [2, 8] }], outputs: ['y'], opset: Math.max(13, d.onnx.since),
      });
      const [bareWant] = await runOrt(bare, [x]);
      expectAgrees(ck.io.loadOnnxBytes(bare, { name: d.onnx.op }).forward(x).dataSync(), bareWant!.data, `${d.onnx.op} without attributes`);
    }
  });
});
