/**
 * An imported ONNX model is an ordinary Module: its float initializers are Parameters named
 * after them, gradients flow through every node, a node can be replaced by a new layer, and
 * the result trains with the usual Trainer and saves/loads with ck.io.save / ck.io.load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose } from '../helpers/assert.js';
import { makeModel, rawFloats } from './onnx-builder.js';

/** Conv -> BatchNorm -> Relu -> GlobalAveragePool -> Flatten -> Gemm, as PyTorch exports it. */
function smallNet(): Uint8Array {
  const g = new ck.Generator(11);
  const rand = (n: number, scale = 0.5) => rawFloats(Array.from({ length: n }, () => g.normal() * scale));
  return makeModel({
    opset: 13,
    inputs: [{ name: 'input', dims: [1, 2, 6, 6] }],
    outputs: ['logits'],
    initializers: [
      { name: 'features.0.weight', dims: [4, 2, 3, 3], raw: rand(72) },
      { name: 'features.0.bias', dims: [4], raw: rand(4) },
      { name: 'features.1.weight', dims: [4], raw: rawFloats([1, 1.5, 0.5, 1]) },
      { name: 'features.1.bias', dims: [4], raw: rawFloats([0, 0.1, -0.1, 0.2]) },
      { name: 'features.1.running_mean', dims: [4], raw: rawFloats([0.1, -0.2, 0, 0.3]) },
      { name: 'features.1.running_var', dims: [4], raw: rawFloats([1, 0.5, 2, 1]) },
      { name: 'fc.weight', dims: [5, 4], raw: rand(20) },
      { name: 'fc.bias', dims: [5], raw: rand(5) },
    ],
    nodes: [
      { name: 'conv', op: 'Conv', inputs: ['input', 'features.0.weight', 'features.0.bias'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { name: 'bn', op: 'BatchNormalization', inputs: ['c', 'features.1.weight', 'features.1.bias', 'features.1.running_mean', 'features.1.running_var'], outputs: ['b'] },
      { name: 'relu', op: 'Relu', inputs: ['b'], outputs: ['r'] },
      { name: 'gap', op: 'GlobalAveragePool', inputs: ['r'], outputs: ['p'] },
      { name: 'flat', op: 'Flatten', inputs: ['p'], outputs: ['f'] },
      { name: 'fc', op: 'Gemm', inputs: ['f', 'fc.weight', 'fc.bias'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
  });
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('OnnxModel as a Module', () => {
  it('float initializers are Parameters named after them; running statistics are buffers', () => {
    const model = ck.io.loadOnnxBytes(smallNet());
    expect(model).toBeInstanceOf(ck.nn.Module);
    expect(model.training).toBe(false);
    expect(model.namedParameters().map(([n]) => n)).toEqual([
      'features_0_weight',
      'features_0_bias',
      'features_1_weight',
      'features_1_bias',
      'fc_weight',
      'fc_bias',
    ]);
    expect(model.namedBuffers().map(([n]) => n)).toEqual(['features_1_running_mean', 'features_1_running_var']);
    expect(model.onnxNames().get('features.0.weight')).toBe('features_0_weight');
    for (const p of model.parameters()) expect(p.requiresGrad).toBe(true);
  });

  it('gradients reach every parameter', () => {
    const model = ck.io.loadOnnxBytes(smallNet());
    const y = model.forward(ck.randn([3, 2, 6, 6], { seed: 1 }));
    expect(y.shape).toEqual([3, 5]);
    ck.F.sum(y).backward();
    for (const [name, p] of model.namedParameters()) {
      expect(p.grad, name).not.toBeNull();
      expect(Array.from(p.grad!.dataSync()).some((v) => v !== 0), name).toBe(true);
    }
  });

  it('fine-tunes: replace the last layer, freeze the rest, train, save and load', async () => {
    ck.manualSeed(5);
    const model = ck.io.loadOnnxBytes(smallNet());
    const head = new ck.nn.Linear(4, 3);
    model.replaceNode('fc', head);
    expect(model.namedParameters().map(([n]) => n)).not.toContain('fc_weight');
    expect(model.namedParameters().map(([n]) => n)).toContain('fc.weight');
    model.requiresGrad(false);
    head.requiresGrad(true);
    const frozen = model.parameters().filter((p) => !p.requiresGrad).map((p) => p.dataSync());
    const headBefore = head.parameters().map((p) => p.dataSync());

    const x = ck.randn([12, 2, 6, 6], { seed: 2 });
    const y = ck.tensor(Array.from({ length: 12 }, (_, i) => i % 3), [12], { dtype: 'int32' });
    const batches = [
      { x: x.reshape([12, 2, 6, 6]), y },
    ];
    const train = { length: 1, [Symbol.iterator]: () => batches[Symbol.iterator]() };
    const optimizer = new ck.optim.SGD(model.parameters().filter((p) => p.requiresGrad), { lr: 0.5 });
    const result = await new ck.train.Trainer(model, { train, optimizer, epochs: 15 }).fit();
    const losses = result.history.map((e) => e.trainLoss);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]!);

    model.parameters()
      .filter((p) => !p.requiresGrad)
      .forEach((p, i) => expect(Array.from(p.dataSync())).toEqual(Array.from(frozen[i]!)));
    head.parameters().forEach((p, i) => expect(Array.from(p.dataSync())).not.toEqual(Array.from(headBefore[i]!)));

    const dir = mkdtempSync(join(tmpdir(), 'convkit-onnx-ft-'));
    dirs.push(dir);
    const file = join(dir, 'finetuned.ckpt');
    model.eval();
    await model.save(file);
    const loaded = await ck.io.load(file);
    expect(loaded).toBeInstanceOf(ck.io.OnnxModel);
    const probe = ck.randn([2, 2, 6, 6], { seed: 9 });
    expectClose(ck.noGrad(() => loaded.forward(probe)), ck.noGrad(() => model.forward(probe)), { rtol: 0, atol: 0 });
  });

  it('survives being built inside tidy(), and inference in tidy() leaves memory flat', () => {
    const model = ck.tidy(() => ck.io.loadOnnxBytes(smallNet()));
    const x = ck.ones([2, 2, 6, 6]);
    const first = ck.tidy(() => ck.noGrad(() => model.forward(x)));
    const before = ck.memory().numTensors;
    for (let i = 0; i < 5; i++) ck.tidy(() => void ck.noGrad(() => model.forward(x)));
    expect(ck.memory().numTensors).toBe(before);
    expectClose(ck.noGrad(() => model.forward(x)), first, { rtol: 0, atol: 0 });
  });

  it('replaceNode(name, null) removes a node; unknown names are listed', () => {
    const model = ck.io.loadOnnxBytes(smallNet());
    model.replaceNode('fc', null);
    expect(model.forward(ck.ones([1, 2, 6, 6])).shape).toEqual([1, 4]);
    expect(() => model.replaceNode('nope', null)).toThrow(/no node named 'nope'/);
  });
});
