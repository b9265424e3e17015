import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';

const { analysis, models, nn } = ck;

/**
 * A small net trained on 14x14x2 crops, with no padding anywhere so that the score grid on a
 * larger image equals the net on every crop exactly: 14 -> CONV3 12 -> POOL2 6 -> CONV3 4 ->
 * POOL2 2 -> FC8 -> FC5. Total stride 4.
 */
function smallNet(): ck.nn.Sequential {
  ck.manualSeed(11);
  return new nn.Sequential(
    new nn.Conv2d(2, 4, 3), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(4, 6, 3), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(24, 8), new nn.ReLU(), new nn.Dropout(0.5), new nn.Linear(8, 5),
  ).eval();
}
const TRAIN: [number, number, number] = [2, 14, 14];

/** The original net's scores on the crop of `image` at (top, left), [N, K]. */
function cropScores(net: ck.nn.Module, image: ck.Tensor, top: number, left: number): ck.Tensor {
  const [, , h, w] = image.shape as [number, number, number, number];
  const crop = ck.F.pad(image, [-left, -(w - left - 14), -top, -(h - top - 14)]);
  return ck.noGrad(() => net.forward(crop));
}

/** Column (i, j) of a grid [N, K, gh, gw] as [N, K]. */
function cell(grid: ck.Tensor, i: number, j: number): Float32Array {
  const [n, k, gh, gw] = grid.shape as [number, number, number, number];
  const v = grid.dataSync();
  const out = new Float32Array(n * k);
  for (let b = 0; b < n * k; b++) out[b] = v[(b * gh + i) * gw + j]!;
  return out;
}

describe('FC -> CONV conversion', () => {
  it('turns the first FC into a CONV over the whole volume and the rest into 1x1 CONVs', () => {
    const net = smallNet();
    const fcn = analysis.toFullyConvolutional(net, TRAIN);
    expect(fcn.children().map((m) => m.describe())).toEqual([
      'Conv2d(2, 4, kernelSize=3)', 'ReLU()', 'MaxPool2d(kernelSize=2, stride=2)',
      'Conv2d(4, 6, kernelSize=3)', 'ReLU()', 'MaxPool2d(kernelSize=2, stride=2)',
      'Conv2d(6, 8, kernelSize=2)', 'ReLU()', 'Dropout(p=0.5)', 'Conv2d(8, 5, kernelSize=1)',
    ]);
    // The weights are the FC's, reshaped [8, 24] -> [8, 6, 2, 2]; the original is untouched.
    const conv = fcn.at(6) as ck.nn.Conv2d;
    expect(conv.weight.shape).toEqual([8, 6, 2, 2]);
    expect(conv.weight.dataSync()).toEqual((net.at(7) as ck.nn.Linear).weight.dataSync());
    expect(net.length).toBe(11);
    expect(fcn.training).toBe(false);
  });

  it('gives identical outputs on the training size', () => {
    const net = smallNet();
    const fcn = analysis.toFullyConvolutional(net, TRAIN);
    const x = ck.randn([3, ...TRAIN], { seed: 1 });
    const y = ck.noGrad(() => fcn.forward(x));
    expect(y.shape).toEqual([3, 5, 1, 1]);
    expectClose(y.view(3, 5), ck.noGrad(() => net.forward(x)), { atol: 1e-5 });
  });

  it('on a larger image, equals the original net on every crop at the total stride', () => {
    const net = smallNet();
    const fcn = analysis.toFullyConvolutional(net, TRAIN);
    expect(analysis.totalStride(net, TRAIN)).toEqual([4, 4]);
    const image = ck.randn([2, 2, 26, 22], { seed: 2 });
    const grid = analysis.scoreGrid(fcn, image);
    // (26 - 14)/4 + 1 = 4 rows, (22 - 14)/4 + 1 = 3 columns of class scores, in one pass.
    expect(grid.shape).toEqual([2, 5, 4, 3]);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 3; j++) expectClose(cell(grid, i, j), cropScores(net, image, 4 * i, 4 * j), { atol: 1e-5, what: `cell ${i},${j}` });
    }
    // predict --dense: the average over the grid
    const avg = analysis.averageScoreGrid(grid);
    expect(avg.shape).toEqual([2, 5]);
    const sum = Array.from({ length: 12 }, (_, c) => cell(grid, Math.floor(c / 3), c % 3)[0]!).reduce((a, b) => a + b, 0);
    expectClose([avg.dataSync()[0]!], [sum / 12], { atol: 1e-5 });
  });

  it('with a second pass shifted by half the stride, gives the scores at half the stride', () => {
    const net = smallNet();
    const fcn = analysis.toFullyConvolutional(net, TRAIN);
    const image = ck.randn([1, 2, 22, 22], { seed: 3 });
    const plain = analysis.shiftedScoreGrid(fcn, image, [0, 0], [4, 4]);
    const shifted = analysis.shiftedScoreGrid(fcn, image, [2, 2], [4, 4]);
    expect(plain.shape).toEqual([1, 5, 3, 3]);
    expect(shifted.shape).toEqual([1, 5, 2, 2]);
    // The shifted pass scores the crops that start halfway between the first pass's.
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) expectClose(cell(shifted, i, j), cropScores(net, image, 2 + 4 * i, 2 + 4 * j), { atol: 1e-5 });
    }
    // Four passes (shifts 0 and 2 on each axis) fill the whole grid at stride 2.
    const half = analysis.halfStrideScoreGrid(fcn, image, [4, 4]);
    expect(half.shape).toEqual([1, 5, 5, 5]);
    for (let a = 0; a < 5; a++) {
      for (let b = 0; b < 5; b++) expectClose(cell(half, a, b), cropScores(net, image, 2 * a, 2 * b), { atol: 1e-5, what: `cell ${a},${b}` });
    }
  });

  it('converts VGG-16 so that a 384x384 image gives a 6x6x1000 grid (shapes only, nothing built)', () => {
    const config = analysis.fullyConvolutionalConfig(models.zooConfig('vgg16'), [3, 224, 224]);
    const convs = (config.args as ck.nn.ModuleConfig[]).filter((c) => c.type === 'Conv2d').slice(-3);
    expect(convs.map((c) => c.args.slice(0, 3))).toEqual([[512, 4096, 7], [4096, 4096, 1], [4096, 1000, 1]]);
    const at224 = analysis.summarize(config, { input: [3, 224, 224] });
    expect(at224.rows.at(-1)!.volume).toBe('[1x1x1000]');
    expect(at224.totals.params).toBe(138_357_544);
    const at384 = analysis.summarize(config, { input: [3, 384, 384] });
    expect(at384.rows.at(-1)!.volume).toBe('[6x6x1000]'); // (384 - 224)/32 + 1
    expect(analysis.totalStride(config, [3, 224, 224])).toEqual([32, 32]);
  });

  it('refuses what it cannot convert', () => {
    expectConvkitError(() => analysis.toFullyConvolutional(new nn.Sequential(new nn.Conv2d(1, 2, 3)), [1, 5, 5]), 'no FC (Linear) layer');
    expectConvkitError(() => analysis.fullyConvolutionalConfig(models.resnet18(), [3, 224, 224]), 'needs layers in a row (a Sequential), got ResNet');
    const head = (dim: number) => new nn.Sequential(new nn.Flatten(), new nn.Linear(4, 3), new nn.Softmax(dim));
    // A softmax over the classes (dim 1) stays one in the grid; over the last axis it would not.
    expect(analysis.toFullyConvolutional(head(1), [1, 2, 2]).forward(ck.randn([1, 1, 2, 2], { seed: 4 })).shape).toEqual([1, 3, 1, 1]);
    expectConvkitError(() => analysis.toFullyConvolutional(head(-1), [1, 2, 2]), 'layer 2 (Softmax) comes after the FC layers and is not pointwise');
  }, 30_000);
});
