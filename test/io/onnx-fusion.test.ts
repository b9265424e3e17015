import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { describeEachBackend } from '../helpers/backends.js';
import { expectSameBits } from '../helpers/same-bits.js';
import { makeModel, rawFloats } from './onnx-builder.js';

const { F } = ck;

/**
 * An imported graph runs a Conv or Gemm together with the Relu that alone reads its output
 * (one fused kernel); anything else reading that output, or the output being a graph output,
 * keeps them apart. Results are the same bits as the separate ops.
 */

const W = ck.randn([4, 3, 3, 3], { seed: 1 });
const B = ck.randn([4], { seed: 2 });
const FW = ck.randn([5, 4 * 6 * 6], { seed: 3 });
const FB = ck.randn([5], { seed: 4 });
const inits = [
  { name: 'w', dims: [...W.shape], raw: rawFloats(W.dataSync()) },
  { name: 'b', dims: [...B.shape], raw: rawFloats(B.dataSync()) },
  { name: 'fw', dims: [...FW.shape], raw: rawFloats(FW.dataSync()) },
  { name: 'fb', dims: [...FB.shape], raw: rawFloats(FB.dataSync()) },
];
const conv = { op: 'Conv', name: 'conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } };

function chainModel(extraOutputs: string[] = [], gemmAttrs: Record<string, number | { float: number }> = { transB: 1 }): Uint8Array {
  return makeModel({
    inputs: [{ name: 'x', dims: [2, 3, 6, 6] }],
    outputs: ['y', ...extraOutputs],
    initializers: inits,
    nodes: [
      conv,
      { op: 'Relu', name: 'relu1', inputs: ['c'], outputs: ['r'] },
      { op: 'Flatten', name: 'flat', inputs: ['r'], outputs: ['f'] },
      { op: 'Gemm', name: 'fc', inputs: ['f', 'fw', 'fb'], outputs: ['g'], attrs: gemmAttrs },
      { op: 'Relu', name: 'relu2', inputs: ['g'], outputs: ['y'] },
    ],
  });
}

const x = ck.randn([2, 3, 6, 6], { seed: 5 });
const reference = () => {
  const r = F.relu(F.conv2d(x, W, B, { padding: 1 }));
  return { r, y: F.relu(F.linear(F.flatten(r), FW, FB)) };
};

describeEachBackend('ONNX import fuses Conv/Gemm + Relu', () => {
  it('Conv -> Relu and Gemm -> Relu run fused, with the same values as the separate ops', () => {
    const model = ck.io.loadOnnxBytes(chainModel());
    const y = model.forward(x);
    expect(y.gradFn?.name).toBe('linear_relu');
    expectSameBits(y, reference().y);
    // gradients flow through the fused nodes
    F.sum(y).backward();
    expect(model.parameters().every((p) => p.grad !== null)).toBe(true);
  });

  it('an output that is also a graph output, or read by another node, is not fused', () => {
    const model = ck.io.loadOnnxBytes(chainModel(['c']));
    const [y, c] = model.runAll(x);
    expectSameBits(c!, F.conv2d(x, W, B, { padding: 1 }), 'the convolution, before its relu');
    expectSameBits(y!, reference().y);
    const twoReaders = makeModel({
      inputs: [{ name: 'x', dims: [2, 3, 6, 6] }],
      outputs: ['y'],
      initializers: inits.slice(0, 2),
      nodes: [conv, { op: 'Relu', inputs: ['c'], outputs: ['r'] }, { op: 'Add', inputs: ['r', 'c'], outputs: ['y'] }],
    });
    const c0 = F.conv2d(x, W, B, { padding: 1 });
    expectSameBits(ck.io.loadOnnxBytes(twoReaders).forward(x), F.add(F.relu(c0), c0));
  });

  it('Add -> Relu (a residual sum) runs as one fused add, with the same bits; a broadcast Add too', () => {
    for (const bDims of [[2, 4, 6, 6], [4, 1, 1]]) {
      const residual = makeModel({
        inputs: [{ name: 'x', dims: [2, 3, 6, 6] }, { name: 's', dims: bDims }],
        outputs: ['y'],
        initializers: inits.slice(0, 2),
        nodes: [conv, { op: 'Add', name: 'sum', inputs: ['c', 's'], outputs: ['a'] }, { op: 'Relu', name: 'relu', inputs: ['a'], outputs: ['y'] }],
      });
      const s = ck.randn(bDims, { seed: 6 });
      const model = ck.io.loadOnnxBytes(residual);
      const [y] = model.runAll(x, s);
      expect(y!.gradFn?.name).toBe('add_relu');
      expectSameBits(y!, F.relu(F.add(F.conv2d(x, W, B, { padding: 1 }), s)));
    }
  });

  it('Conv -> BatchNormalization (-> Relu) folds into one convolution for inference, and trains unfolded', () => {
    const c = 4;
    const stats = {
      scale: ck.rand([c], { seed: 31 }), B: ck.randn([c], { seed: 32 }), mean: ck.randn([c], { seed: 33 }),
      var: F.add(ck.rand([c], { seed: 34 }), 0.5),
    };
    const bnInits = Object.entries(stats).map(([name, t]) => ({ name, dims: [c], raw: rawFloats(t.dataSync()) }));
    for (const withRelu of [true, false]) {
      const bytes = makeModel({
        inputs: [{ name: 'x', dims: [2, 3, 6, 6] }],
        outputs: ['y'],
        initializers: [...inits.slice(0, 2), ...bnInits],
        nodes: [
          conv,
          { op: 'BatchNormalization', name: 'bn', inputs: ['c', 'scale', 'B', 'mean', 'var'], outputs: [withRelu ? 'n' : 'y'], attrs: { epsilon: { float: 1e-3 } } },
          ...(withRelu ? [{ op: 'Relu', name: 'relu', inputs: ['n'], outputs: ['y'] }] : []),
        ],
      });
      const separate = (t: ck.Tensor) => {
        const n = F.batchNorm(F.conv2d(t, W, B, { padding: 1 }), stats.mean, stats.var, { weight: stats.scale, bias: stats.B, eps: 1e-3 });
        return withRelu ? F.relu(n) : n;
      };
      const model = ck.io.loadOnnxBytes(bytes);
      // Fine-tuning (parameters require grad): the separate nodes, batch norm + relu fused, same bits.
      const trained = model.forward(x);
      expect(trained.gradFn?.name).toBe(withRelu ? 'batchNorm_relu' : 'batchNorm');
      expectSameBits(trained, separate(x));
      // Inference: one convolution with the batch norm in its epilogue.
      const got = ck.noGrad(() => model.forward(x)).dataSync();
      const want = separate(x).dataSync();
      let worst = 0;
      want.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - got[i]!))));
      expect(worst).toBeLessThan(1e-5);
      expect(got.some((v, i) => v !== want[i])).toBe(true); // different rounding: it did run folded
    }
  });

  it('a Gemm outside the linear form applies the fused Relu after its ops', () => {
    const model = ck.io.loadOnnxBytes(chainModel([], { transB: 1, alpha: { float: 0.5 } }));
    const r = reference().r;
    const y = model.forward(x);
    expect(y.gradFn?.name).toBe('relu');
    expectSameBits(y, F.relu(F.add(F.mul(F.matmul(F.flatten(r), FW.transpose(0, 1)), 0.5), FB)));
  });

  it('replacing the Relu node (or the Conv) undoes the fusion', () => {
    const model = ck.io.loadOnnxBytes(chainModel());
    model.replaceNode('relu1', null);
    const c = F.conv2d(x, W, B, { padding: 1 });
    expectSameBits(model.forward(x), F.relu(F.linear(F.flatten(c), FW, FB)));
    const m2 = ck.io.loadOnnxBytes(chainModel());
    m2.replaceNode('fc', new ck.nn.Flatten());
    expectSameBits(m2.forward(x), F.relu(F.flatten(reference().r)));
  });

  it("export writes F.linear's fused relu as a Relu node", () => {
    class Head extends ck.nn.Module {
      fc = new ck.nn.Linear(6, 4);
      forward(t: ck.Tensor): ck.Tensor {
        return F.linear(this.fc.forward(t), ck.randn([3, 4], { seed: 9 }), null, { activation: 'relu' });
      }
    }
    ck.manualSeed(3);
    const head = new Head();
    const input = ck.randn([2, 6], { seed: 8 });
    const back = ck.io.loadOnnxBytes(ck.io.exportOnnx(head, { inputShape: [6] }));
    expect(back.nodes().map(([, op]) => op)).toContain('Relu');
    expectSameBits(back.forward(input), head.forward(input));
  });
});
