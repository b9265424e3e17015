import { describe, expect, it, vi } from 'vitest';
import * as ck from '../../src/index.js';
import { runtime } from '../../src/backend/wasm/instance.js';
import { RESIDENT_MIN_ELEMENTS } from '../../src/backend/wasm/runtime.js';
import { workersReady } from '../backend/wasm-helpers.js';

/**
 * A profile must measure the step as it runs without one. On the wasm backend a step's
 * outputs live in wasm memory and go back to the heap when the step's tidy scope ends; an
 * output no tensor claimed stayed allocated until a garbage collection, which a synchronous
 * loop of steps (a profile, a benchmark) never reaches, so every step ran on fresh memory and
 * the normalization and activation gradients took several times as long under the profiler.
 * These tests pin the rule without timing: a scoped training step leaves wasm memory as it
 * found it, with and without a profile, and the profile changes nothing about where outputs live.
 */

const isShared = (t: ck.Tensor) => t.storage.data.buffer instanceof SharedArrayBuffer;

/** The pattern builder gives in-place ReLUs after BN; BN's statistics are per-channel outputs. */
const PATTERN = 'INPUT[16x16x3] -> [CONV3-16 -> BN -> RELU]*2 -> POOL2 -> CONV3-32 -> RELU -> POOL2 -> FC10';

describe.runIf(ck.listBackends().includes('wasm'))('profile and wasm-resident outputs', () => {
  const withWasm = async (fn: () => void): Promise<void> => {
    const prev = ck.getBackendName();
    await ck.setBackend('wasm');
    await workersReady();
    try {
      fn();
    } finally {
      await ck.setBackend(prev);
    }
  };

  function setup() {
    ck.manualSeed(3);
    const { model, input } = ck.analysis.modelFromPattern(PATTERN);
    model.train();
    const x = ck.randn([8, ...input]);
    const y = ck.randint(0, 10, [8]);
    const optimizer = new ck.optim.SGD(model.parameters(), { lr: 1e-3, momentum: 0.9 });
    let sharedOutputs = 0;
    const step = () =>
      ck.tidy(() => {
        const out = model.forward(x);
        const loss = ck.F.crossEntropy(out, y);
        loss.backward();
        optimizer.step();
        optimizer.zeroGrad();
        // The first layer's output: a kernel output inside tidy, large enough to stay in wasm memory.
        if (isShared(model.children()[0]!.forward(x))) sharedOutputs++;
      });
    return { model, step, shared: () => sharedOutputs };
  }

  it('a scoped training step gives back every block it took, with and without a profile', async () => {
    await withWasm(() => {
      const rt = runtime();
      if (!rt.shared) return; // single-threaded build: every output is copied out
      const { step, shared } = setup();
      step(); // momentum buffers and adopted parameters stay: they are made in the first step
      const before = rt.tensorBytes;
      step();
      expect(rt.tensorBytes).toBe(before);
      ck.profile(step, { steps: 2, warmup: 1 });
      expect(rt.tensorBytes).toBe(before);
      expect(shared()).toBe(5);
    });
  });

  it('outputs stay where they would live without a profile', async () => {
    await withWasm(() => {
      if (!runtime().shared) return;
      const x = ck.randn([4, 8, 16, 16]);
      const w = ck.randn([8, 8, 3, 3]);
      // A per-channel sum (a wasm kernel with 8 outputs) is copied out: small outputs go to the JS heap.
      const where = () =>
        ck.tidy(() => [isShared(ck.F.conv2d(x, w, null, { padding: 1 })), isShared(ck.F.relu(x)), isShared(ck.F.sum(x, [0, 2, 3]))]);
      const plain = where();
      let profiled: boolean[] = [];
      ck.profile(() => void (profiled = where()));
      expect(plain).toEqual([true, true, false]);
      expect(profiled).toEqual(plain);
    });
  });

  it('a transposed convolution with a bias leaves no block behind (its unbiased output is no tensor)', async () => {
    await withWasm(() => {
      const rt = runtime();
      if (!rt.shared) return;
      const x = ck.randn([1, 8, 14, 14]);
      const w = ck.randn([8, 4, 4, 4]);
      const b = ck.randn([4]);
      const before = rt.tensorBytes;
      ck.noGrad(() => ck.tidy(() => void ck.F.convTranspose2d(x, w, b, { stride: 2, padding: 1 })));
      expect(rt.tensorBytes).toBe(before);
    });
  });

  it('in-place relu and batch-norm statistics leave no block behind', async () => {
    await withWasm(() => {
      const rt = runtime();
      if (!rt.shared) return;
      const x = ck.randn([4, 8, 16, 16]);
      const rm = ck.zeros([8]);
      const rv = ck.ones([8]);
      const before = rt.tensorBytes;
      ck.tidy(() => {
        const y = ck.F.mul(x, 2);
        ck.F.relu(y, { inplace: true });
        ck.F.batchNorm(y, rm, rv, { training: true });
        expect(isShared(y)).toBe(true);
      });
      expect(rt.tensorBytes).toBe(before);
    });
  });

  it('inside a training step every kernel output of 1024 elements or more is a view of wasm memory, not a JS-heap copy', async () => {
    await withWasm(() => {
      const rt = runtime();
      if (!rt.shared) return;
      const { step } = setup();
      step();
      const outputs: { n: number; shared: boolean }[] = [];
      const record = <T extends Float32Array | Int32Array>(out: T): T => {
        outputs.push({ n: out.length, shared: out.buffer instanceof SharedArrayBuffer });
        return out;
      };
      const read = vi.spyOn(rt, 'read');
      const readI32 = vi.spyOn(rt, 'readI32');
      // The class's own methods (readSum reads through read too).
      const proto = Object.getPrototypeOf(rt) as typeof rt;
      read.mockImplementation((ptr: number, n: number) => record(proto.read.call(rt, ptr, n)));
      readI32.mockImplementation((ptr: number, n: number) => record(proto.readI32.call(rt, ptr, n)));
      try {
        for (let i = 0; i < 3; i++) step();
      } finally {
        read.mockRestore();
        readI32.mockRestore();
      }
      const large = outputs.filter((o) => o.n >= RESIDENT_MIN_ELEMENTS);
      expect(large.length).toBeGreaterThan(30);
      expect(large.filter((o) => !o.shared)).toEqual([]);
      // Small outputs are copies (per-channel statistics, bias gradients, the logits): a few KiB a step.
      const copiedBytes = outputs.filter((o) => !o.shared).reduce((a, o) => a + 4 * o.n, 0) / 3;
      expect(copiedBytes).toBeLessThan(16 * 1024);
    });
  });
});
