import { afterAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/node.js';
import { Trainer } from '../../src/train/trainer.js';
import { createModel } from '../../src/models/index.js';
import { loadDigits } from '../../src/data/digits.js';
import { Subset } from '../../src/data/dataset.js';
import { gpuCounters } from '../../src/backend/webgpu/gpu-array.js';
import { startWebgpu } from '../helpers/webgpu.js';

/*
 * Issue #20's training checks on the webgpu backend (a software adapter here): LeNet-5 trains on
 * a fixed digits subset to the accuracy the wasm backend reaches from the same seed; a small
 * net overfits one batch; a training step reads nothing back from the GPU; GPU memory stays
 * flat over many steps; checkpoints and the trained model are readable afterwards.
 */

const why = await startWebgpu();
afterAll(() => ck.setBackendSync('wasm'));

const TRAIN = 256;
const TEST = 500;

async function lenetAccuracy(backend: string): Promise<{ accuracy: number; loss: number }> {
  await ck.setBackend(backend);
  ck.manualSeed(3);
  const model = createModel('lenet5');
  const shuffle = new ck.Generator(4);
  const train = new Subset(loadDigits({ split: 'train' }), Array.from({ length: TRAIN }, (_, i) => i));
  const test = new Subset(loadDigits({ split: 'test' }), Array.from({ length: TEST }, (_, i) => i));
  const optimizer = new ck.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const result = await new Trainer(model, {
    train: new ck.data.DataLoader(train, { batchSize: 32, shuffle: true, generator: shuffle }),
    validation: new ck.data.DataLoader(test, { batchSize: 100 }),
    optimizer,
    epochs: 2,
    generators: [shuffle],
  }).fit();
  const last = result.history.at(-1)!;
  return { accuracy: last.valAccuracy!, loss: last.valLoss! };
}

describe.skipIf(why !== null)('training on webgpu', () => {
  it('overfits one batch, reads nothing back inside a step and keeps GPU memory flat', async () => {
    await ck.setBackend('webgpu');
    ck.manualSeed(1);
    const model = new ck.nn.Sequential(
      new ck.nn.Conv2d(1, 8, 3, { padding: 1 }),
      new ck.nn.BatchNorm2d(8),
      new ck.nn.ReLU(),
      new ck.nn.MaxPool2d(2),
      new ck.nn.Flatten(),
      new ck.nn.Linear(8 * 4 * 4, 4),
    );
    const x = ck.randn([16, 1, 8, 8], { seed: 2 });
    const y = ck.tensor(Int32Array.from({ length: 16 }, (_, i) => i % 4), [16], { dtype: 'int32' });
    const optimizer = new ck.optim.Adam(model.parameters(), { lr: 0.02 });
    const step = (): ck.Tensor =>
      ck.tidy(() => {
        const loss = ck.F.crossEntropy(model.forward(x), y);
        loss.backward();
        optimizer.step();
        optimizer.zeroGrad();
        // Without its graph: a returned loss would keep the step's saved activations alive.
        return loss.detach();
      });
    step().dispose();
    const readsBefore = gpuCounters.readBacks;
    let memoryAt10 = 0;
    let last: ck.Tensor | null = null;
    for (let i = 1; i <= 150; i++) {
      last?.dispose();
      last = step();
      if (i === 10) memoryAt10 = ck.memory().gpuBytes;
    }
    expect(gpuCounters.readBacks - readsBefore).toBe(0);
    expect(ck.memory().gpuBytes).toBe(memoryAt10);
    const [loss] = await last!.data();
    expect(loss).toBeLessThan(0.05);
    // The trained weights come back to the host for saving.
    await model.sync();
    expect(model.stateDict().get('0.weight')!.values().every(Number.isFinite)).toBe(true);
    expect(() => last!.dataSync()).not.toThrow();
    const fresh = ck.tidy(() => ck.keep(ck.F.relu(x)));
    expect(() => fresh.dataSync()).toThrow(/await t.data\(\)/);
    fresh.dispose();
  });
  it('LeNet-5 reaches the accuracy wasm reaches from the same seed (within 0.5 points)', async () => {
    const wasm = await lenetAccuracy('wasm');
    const t0 = performance.now();
    const gpu = await lenetAccuracy('webgpu');
    console.log(`lenet webgpu ${((performance.now() - t0) / 1000).toFixed(1)} s: ${gpu.accuracy} vs wasm ${wasm.accuracy}`);
    expect(gpu.accuracy).toBeGreaterThan(0.7);
    expect(Math.abs(gpu.accuracy - wasm.accuracy)).toBeLessThanOrEqual(0.005);
  });

});
