import { describe, expect, it } from 'vitest';
import * as ck from '../../src/node.js';
import { startWebgpu } from '../helpers/webgpu.js';

/**
 * relu(x, { inplace: true }) on webgpu: the result replaces x's values on the GPU (the host path
 * writes them into x's storage), with the same values and gradients as the js backend; a view
 * of a larger tensor is refused with a ConvkitError. (A forward hook runs nn.ReLU(inplace) apart
 * from the layer before it, which is how the playground's activations view reaches this.)
 */
const why = await startWebgpu();

/** conv -> relu(inplace) -> sum of squares, and the gradients of input and weight. */
function run(x: ck.Tensor, w: ck.Tensor): { y: ck.Tensor; loss: ck.Tensor; dx: ck.Tensor; dw: ck.Tensor } {
  const xg = x.detach();
  xg.requiresGrad = true;
  const wg = w.detach();
  wg.requiresGrad = true;
  const h = ck.F.conv2d(xg, wg, null, { padding: 1 });
  const y = ck.F.relu(h, { inplace: true });
  const loss = ck.F.sum(ck.F.mul(y, y));
  loss.backward();
  return { y, loss, dx: xg.grad!, dw: wg.grad! };
}

describe.skipIf(why !== null)('webgpu relu(inplace)', () => {
  it('overwrites the input on the GPU with the values and gradients of the js backend', async () => {
    const previous = ck.getBackendName();
    await ck.setBackend('js');
    const x = ck.randn([2, 3, 7, 5], { seed: 11 });
    const w = ck.randn([4, 3, 3, 3], { seed: 12 });
    const want = run(x, w);
    const wantValues = [want.y, want.loss, want.dx, want.dw].map((t) => t.dataSync());
    await ck.setBackend('webgpu');
    try {
      const got = run(x, w);
      const values = (await Promise.all([got.y, got.loss, got.dx, got.dw].map((t) => t.data()))) as Float32Array[];
      values.forEach((v, i) => {
        expect(v.length).toBe(wantValues[i]!.length);
        const scale = Math.max(1, ...wantValues[i]!.map(Math.abs));
        for (let j = 0; j < v.length; j++) expect(Math.abs(v[j]! - wantValues[i]![j]!), `output ${i} element ${j}`).toBeLessThan(1e-5 * scale);
      });
      // The in-place result: no negative value is left.
      expect(Math.min(...values[0]!)).toBe(0);
      // A plain tensor on the GPU is overwritten too (no graph), read back with data().
      const z = ck.F.relu(ck.F.mul(ck.tensor([-1, 2, -3, 4], [4]), 1), { inplace: true });
      expect(Array.from((await z.data()) as Float32Array)).toEqual([0, 2, 0, 4]);
      // A strided view is refused, not written wrong.
      const m = ck.F.mul(ck.tensor([-1, 2, -3, 4, -5, 6], [2, 3]), 1);
      expect(() => ck.F.relu(m.transpose(0, 1), { inplace: true })).toThrow(/cannot overwrite in place/);
    } finally {
      ck.setBackendSync(previous);
    }
  });
});
