import { afterAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/node.js';
import { gpuCounters } from '../../src/backend/webgpu/gpu-array.js';
import { startWebgpu } from '../helpers/webgpu.js';

/*
 * Issue #20's training checks on the webgpu backend (a software adapter here): a small net
 * overfits one batch; a training step reads nothing back from the GPU; GPU memory stays flat
 * over many steps; the trained model comes back to the host. LeNet-5 against wasm is in
 * test/webgpu-slow/lenet.slow.ts (npm run test:webgpu: minutes on a software adapter).
 */

const why = await startWebgpu();
afterAll(() => ck.setBackendSync('wasm'));

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
});
