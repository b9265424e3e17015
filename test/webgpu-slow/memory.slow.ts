import { describe, expect, it } from 'vitest';
import * as ck from '../../src/node.js';
import { gpuCounters } from '../../src/backend/webgpu/gpu-array.js';
import { startWebgpu } from '../helpers/webgpu.js';

/*
 * Issue #20: a 1,000-step training run keeps GPU memory flat and reads nothing back. A conv +
 * batch norm + pooling net with Adam; minutes' worth of steps on a software adapter, so it runs
 * in `npm run test:webgpu` (test/train/webgpu-training.test.ts does 150 steps in npm test).
 */

const why = await startWebgpu();

describe.skipIf(why !== null)('1,000 training steps on webgpu', () => {
  it('keep GPU memory flat and read nothing back', async () => {
    await ck.setBackend('webgpu');
    ck.manualSeed(5);
    const model = new ck.nn.Sequential(
      new ck.nn.Conv2d(1, 8, 3, { padding: 1 }),
      new ck.nn.BatchNorm2d(8),
      new ck.nn.ReLU(),
      new ck.nn.MaxPool2d(2),
      new ck.nn.Flatten(),
      new ck.nn.Dropout(0.2),
      new ck.nn.Linear(8 * 4 * 4, 4),
    );
    const optimizer = new ck.optim.Adam(model.parameters(), { lr: 0.01 });
    const y = ck.tensor(Int32Array.from({ length: 16 }, (_, i) => i % 4), [16], { dtype: 'int32' });
    let after10 = 0;
    const reads = gpuCounters.readBacks;
    for (let i = 1; i <= 1000; i++) {
      // A new input every step, as a data loader gives them.
      const x = ck.randn([16, 1, 8, 8]);
      ck.tidy(() => {
        const loss = ck.F.crossEntropy(model.forward(x), y);
        loss.backward();
        optimizer.step();
        optimizer.zeroGrad();
      });
      x.dispose();
      if (i === 10) after10 = ck.memory().gpuBytes;
    }
    expect(gpuCounters.readBacks - reads).toBe(0);
    expect(ck.memory().gpuBytes).toBe(after10);
    await model.sync();
    expect(model.parameters().every((p) => p.values().every(Number.isFinite))).toBe(true);
    ck.setBackendSync('wasm');
  });
});
