import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { runtime } from '../../src/backend/wasm/instance.js';
import { kernel } from '../../src/backend/registry.js';
import { workersReady } from './wasm-helpers.js';
import { readFileSync } from 'node:fs';
import { WasmRuntime } from '../../src/backend/wasm/runtime.js';

/**
 * Tensors made by wasm kernels inside tidy scopes live in the backend's WebAssembly memory
 * (src/backend/wasm/runtime.ts): the next kernel reads them in place, tidy gives their
 * blocks back for reuse. These tests pin the lifetime rules that make that safe.
 */
const isShared = (a: ck.Tensor | Float32Array) => (a instanceof Float32Array ? a : a.storage.data).buffer instanceof SharedArrayBuffer;

function convNet(): ck.nn.Module {
  return new ck.nn.Sequential(
    new ck.nn.Conv2d(3, 8, 3, { padding: 1 }), new ck.nn.ReLU(), new ck.nn.MaxPool2d(2),
    new ck.nn.Conv2d(8, 8, 3, { padding: 1 }), new ck.nn.ReLU(), new ck.nn.Flatten(), new ck.nn.Linear(8 * 16 * 16, 10),
  );
}

describe.runIf(ck.listBackends().includes('wasm'))('wasm-resident tensors', () => {
  const prev = ck.getBackendName();
  const withBackend = async <T>(name: string, fn: () => T): Promise<T> => {
    await ck.setBackend(name);
    if (name === 'wasm') await workersReady();
    try {
      return fn();
    } finally {
      await ck.setBackend(prev);
    }
  };
  const withWasm = <T>(fn: () => T): Promise<T> => withBackend('wasm', fn);
  const x = ck.randn([4, 3, 32, 32], { seed: 5 });
  const w = ck.randn([8, 3, 3, 3], { seed: 6 });

  it('kernel outputs inside tidy are views of wasm memory; outside tidy they are ordinary arrays', async () => {
    await withWasm(() => {
      const inside = ck.tidy(() => isShared(ck.F.conv2d(x, w, null, { padding: 1 })));
      const outside = ck.F.conv2d(x, w, null, { padding: 1 });
      if (!runtime().shared) return; // single-threaded build: everything is copied out
      expect(inside).toBe(true);
      expect(isShared(outside)).toBe(false);
    });
  });

  it('gives the same values as the js reference through a whole network, forward and backward', async () => {
    const model = convNet();
    const input = ck.randn([4, 3, 32, 32], { seed: 7 });
    const target = ck.tensor([1, 2, 3, 4], [4], { dtype: 'int32' });
    const run = () => ck.tidy(() => {
      model.zeroGrad();
      const loss = ck.F.crossEntropy(model.forward(input), target);
      loss.backward();
      return { loss: loss.item(), grads: model.parameters().map((p) => p.grad!.dataSync()) };
    });
    const ref = await withBackend('js', run);
    const got = await withWasm(run);
    expect(got.loss).toBeCloseTo(ref.loss, 4);
    got.grads.forEach((g, i) => {
      const r = ref.grads[i]!;
      let max = 0;
      for (let j = 0; j < g.length; j++) max = Math.max(max, Math.abs(g[j]! - r[j]!));
      expect(max).toBeLessThan(1e-4);
    });
  });

  it('reuses blocks: wasm memory stays flat over many scoped steps', async () => {
    await withWasm(() => {
      const model = convNet().eval();
      const step = () => ck.tidy(() => ck.noGrad(() => model.forward(x).dataSync()));
      for (let i = 0; i < 20; i++) step();
      const before = runtime().f32.buffer.byteLength;
      for (let i = 0; i < 200; i++) step();
      expect(runtime().f32.buffer.byteLength).toBe(before);
    });
  });

  it('an array returned from tidy keeps its data while later kernels run', async () => {
    await withWasm(() => {
      const whole = ck.tidy(() => ck.F.conv2d(x, w, null, { padding: 1 }).values());
      const expected = ck.F.conv2d(x, w, null, { padding: 1 }).dataSync();
      // A part of a tensor's storage (an offset view), returned alone.
      const part = ck.tidy(() => {
        const y = ck.F.conv2d(x, w, null, { padding: 1 });
        return new ck.Tensor(y.storage, [8, 32, 32], undefined, 8 * 32 * 32).values();
      });
      for (let i = 0; i < 30; i++) ck.tidy(() => ck.F.relu(ck.F.conv2d(ck.randn([4, 3, 32, 32], { seed: i }), w, null, { padding: 1 })).dataSync());
      expect(Array.from(whole)).toEqual(Array.from(expected));
      expect(Array.from(part)).toEqual(Array.from(expected.subarray(8 * 32 * 32, 2 * 8 * 32 * 32)));
    });
  });

  it('a tensor returned from tidy survives; its block is reused only after it is disposed', async () => {
    await withWasm(() => {
      const y = ck.tidy(() => ck.F.conv2d(x, w, null, { padding: 1 }));
      const copy = y.dataSync();
      for (let i = 0; i < 30; i++) ck.tidy(() => ck.F.conv2d(ck.randn([4, 3, 32, 32], { seed: 100 + i }), w, null, { padding: 1 }).dataSync());
      expect(Array.from(y.dataSync())).toEqual(Array.from(copy));
      y.dispose();
      expect(() => y.values()).toThrow(/disposed/);
    });
  });

  it('a storage made from part of a resident block gets its own copy (a kernel returning a subarray)', async () => {
    await withWasm(() => {
      ck.tidy(() => {
        const y = ck.F.conv2d(x, w, null, { padding: 1 });
        if (!isShared(y)) return;
        const part = new ck.Tensor((y.storage.data as Float32Array).subarray(16, 48), [32]);
        expect(isShared(part)).toBe(false);
        expect(Array.from(part.values())).toEqual(Array.from(y.values().subarray(16, 48)));
        // Two storages on one whole block (a kernel returning its input): disposing one keeps the other.
        const alias = new ck.Tensor(y.storage.data, y.shape);
        const before = alias.dataSync();
        y.dispose();
        ck.tidy(() => kernel('Conv2D')({ data: x.values() as Float32Array, shape: x.shape }, { data: w.values() as Float32Array, shape: w.shape }, null,
          { kernel: [3, 3], stride: [1, 1], pad: [1, 1, 1, 1], dilation: [1, 1], groups: 1, out: [32, 32], activation: 'none' }));
        expect(Array.from(alias.dataSync())).toEqual(Array.from(before));
      });
    });
  });

  it('ops that write values in TypeScript (zeros, cat, dropout) put them in wasm memory inside tidy, with the js values, and stay flat', async () => {
    // ResNet's option-A shortcut: zero channels on both sides of a subsampled input.
    const a = ck.randn([4, 8, 16, 16], { seed: 21 });
    const run = (xa: ck.Tensor) => ck.tidy(() => {
      const z = ck.zeros([4, 4, 16, 16]);
      const y = ck.cat([z, ck.F.relu(xa), z], 1);
      const d = ck.F.dropout(y, { p: 0.25, generator: new ck.Generator(3) });
      ck.F.sum(ck.F.mul(d, y)).backward();
      const g = xa.grad!.dataSync();
      xa.grad!.dispose();
      xa.grad = null;
      return { y: y.dataSync(), d: d.dataSync(), g, shared: [isShared(z), isShared(y), isShared(d)] };
    });
    const leaf = () => ck.tensor(a.dataSync(), a.shape, { requiresGrad: true });
    const ref = await withBackend('js', () => run(leaf()));
    await withWasm(() => {
      const xa = leaf();
      // Dirty the heap first: blocks handed out again hold old values, every element must be written.
      for (const shape of [[4, 4, 16, 16], [4, 16, 16, 16], [4, 8, 16, 16]]) ck.tidy(() => ck.F.mul(ck.randn(shape, { seed: 1 }), 7).dataSync());
      const got = run(xa);
      expect(Array.from(got.y)).toEqual(Array.from(ref.y));
      expect(Array.from(got.d)).toEqual(Array.from(ref.d));
      expect(Array.from(got.g)).toEqual(Array.from(ref.g));
      if (runtime().shared) expect(got.shared).toEqual([true, true, true]);
      // Outside tidy they are ordinary arrays, as kernel outputs are.
      expect(isShared(ck.cat([a, a], 1))).toBe(false);
      for (let i = 0; i < 5; i++) run(xa);
      const bytes = runtime().f32.buffer.byteLength;
      const tensors = runtime().tensorBytes;
      for (let i = 0; i < 20; i++) run(xa);
      expect(runtime().f32.buffer.byteLength).toBe(bytes);
      expect(runtime().tensorBytes).toBe(tensors);
    });
  });

  it('parameters move into wasm memory on first use; training them there matches the js reference', async () => {
    const train = () => {
      ck.manualSeed(11);
      const model = convNet();
      const opt = new ck.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
      const input = ck.randn([4, 3, 32, 32], { seed: 12 });
      const target = ck.tensor([3, 1, 4, 1], [4], { dtype: 'int32' });
      for (let i = 0; i < 3; i++) {
        ck.tidy(() => {
          opt.zeroGrad();
          ck.F.crossEntropy(model.forward(input), target).backward();
          opt.step();
        });
      }
      return model;
    };
    const ref = await withBackend('js', train);
    const got = await withWasm(train);
    const fc = got.parameters().find((p) => p.size === 10 * 8 * 16 * 16)!;
    if (runtime().shared) expect(isShared(fc)).toBe(true);
    expect(isShared(ref.parameters().find((p) => p.size === fc.size)!)).toBe(false);
    got.parameters().forEach((p, i) => {
      const r = ref.parameters()[i]!.values();
      const g = p.values();
      let max = 0;
      for (let j = 0; j < g.length; j++) max = Math.max(max, Math.abs(g[j]! - r[j]!));
      expect(max).toBeLessThan(1e-4);
    });
    // Saved and loaded through the model file format, the moved weights come out whole.
    const copy = convNet();
    copy.loadStateDict(got.stateDict());
    expect(Array.from(copy.parameters().find((p) => p.size === fc.size)!.values())).toEqual(Array.from(fc.values()));
  });

  it('without shared memory (a page that is not cross-origin isolated) every output is copied out, across memory growth', () => {
    const module = new WebAssembly.Module(readFileSync(new URL('../../src/backend/wasm/kernels-st.wasm', import.meta.url)));
    const memory = new WebAssembly.Memory({ initial: 32, maximum: 4096 });
    const rt = new WasmRuntime(module, memory, false, 0, 4096 * 65536);
    const data = Float32Array.from({ length: 1000 }, (_, i) => i - 500);
    ck.tidy(() => {
      rt.begin();
      const p = rt.put(data);
      rt.alloc(8 << 20); // 32 MiB: grows the memory, which detaches an unshared buffer
      const out = rt.read(p, data.length);
      expect(out.buffer instanceof SharedArrayBuffer).toBe(false);
      expect(Array.from(out)).toEqual(Array.from(data));
      // The copy is the caller's: the next call reusing the block does not touch it.
      rt.begin();
      const q = rt.put(new Float32Array(1000).fill(7));
      expect(q).toBe(p);
      expect(Array.from(out)).toEqual(Array.from(data));
    });
  });
});
