import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

/**
 * ck.memory() counts each buffer once (issue #16): views share a storage, tensors made on the
 * same array share a region, and a layer's weights are allocated once (a Parameter takes over
 * the fresh tensor its initializer returns). Synchronous blocks, so no finalizer runs between
 * two readings.
 */
describe('memory accounting', () => {
  it('equals the sum of the distinct buffers with shared and viewed tensors', () => {
    const before = ck.memory().numBytes;
    const data = new Float32Array(1000);
    const a = new ck.Tensor(data, [10, 100]);
    const views = [a.reshape([100, 10]), a.transpose(0, 1), a.reshape([1000])];
    const shared = new ck.Tensor(data, [1000]);
    const sameArrayAgain = new ck.Tensor(data, [20, 50]);
    const part = new ck.Tensor(data.subarray(0, 250), [250]);
    const other = ck.zeros([7, 3]);
    // data (4000 bytes) once, its first quarter as another region (1000), the zeros (84).
    expect(ck.memory().numBytes - before).toBe(4000 + 1000 + 84);
    a.dispose();
    shared.dispose();
    // sameArrayAgain still uses the array.
    expect(ck.memory().numBytes - before).toBe(4000 + 1000 + 84);
    sameArrayAgain.dispose();
    expect(ck.memory().numBytes - before).toBe(1000 + 84);
    part.dispose();
    other.dispose();
    expect(ck.memory().numBytes - before).toBe(0);
    expect(views).toHaveLength(3);
  });

  it('counts a layer\'s parameters once', () => {
    const before = ck.memory().numBytes;
    const fc = new ck.nn.Linear(1000, 1000);
    expect(ck.memory().numBytes - before).toBe((1000 * 1000 + 1000) * 4);
    const conv = new ck.nn.Conv2d(3, 8, 3);
    expect(ck.memory().numBytes - before).toBe((1000 * 1000 + 1000 + 8 * 3 * 9 + 8) * 4);
    expect(fc.parameters().length + conv.parameters().length).toBe(4);
  });

  it('a Parameter shares a whole fresh tensor (as torch.nn.Parameter) and copies a part of one', () => {
    const t = ck.tensor([1, 2, 3, 4]);
    const p = new ck.nn.Parameter(t);
    p.assign([5, 6, 7, 8]);
    expect(Array.from(t.dataSync())).toEqual([5, 6, 7, 8]);
    const big = ck.tensor([1, 2, 3, 4, 5, 6]);
    const q = new ck.nn.Parameter(new ck.Tensor(big.storage, [2], [1], 2));
    q.assign([0, 0]);
    expect(Array.from(big.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(q.dataSync())).toEqual([0, 0]);
  });

  it('storages that leave tidy scopes undisposed are counted out when garbage-collected', async () => {
    // Storages made in a scope are registered with the finalizer only when they outlive it.
    const existing = (globalThis as { gc?: () => void }).gc;
    if (typeof existing !== 'function') setFlagsFromString('--expose-gc');
    const gc = existing ?? (runInNewContext('gc') as () => void);
    const settle = async () => {
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await settle();
    const before = ck.memory().numTensors;
    (() => {
      ck.tidy(() => ck.zeros([5]));
      ck.tidy(() => ck.tidy(() => ck.F.relu(ck.zeros([6]))));
      expect(() => ck.tidy(() => {
        ck.zeros([7]);
        throw new Error('boom');
      })).toThrow('boom');
    })();
    // The returned tensors, and the one made in the scope that threw (nothing is freed then).
    expect(ck.memory().numTensors).toBe(before + 3);
    await settle();
    expect(ck.memory().numTensors).toBe(before);
  });
});
