import { spawnSync } from 'node:child_process';
import { leakyRelu } from '../../src/ops/pointwise/table.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import * as jsElt from '../../src/backend/js/elementwise.js';
import * as wasmElt from '../../src/backend/wasm/elementwise.js';
import * as wasmConv from '../../src/backend/wasm/conv2d.js';
import { runtime } from '../../src/backend/wasm/instance.js';
import { bothPaths, expectSame, kt, values, workersReady } from './wasm-helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('wasm backend runtime', () => {
  it('is registered, and prints its kernel coverage', () => {
    expect(ck.listBackends()).toContain('wasm');
    const { own, fallback } = ck.kernelCoverage('wasm');
    console.log(`wasm backend: ${own.length} own kernels, ${fallback.length} fall back to js\n` +
      `  own: ${own.join(', ')}\n  js:  ${fallback.join(', ')}`);
    expect(own).toEqual(expect.arrayContaining(['MatMul', 'Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']));
  });

  it('catches a task writing past its scratch (the tests run with CONVKIT_WASM_GUARD=1)', () => {
    const rt = runtime() as unknown as { run: (kind: number, n: number, bytes: number, parallel: boolean) => void; guardScratch: boolean };
    expect(rt.guardScratch).toBe(true);
    const x = kt([4, 16, 12, 12], 1), w = kt([20, 16, 5, 5], 2);
    const attrs = { kernel: [5, 5] as [number, number], stride: [1, 1] as [number, number], pad: [2, 2, 2, 2] as [number, number, number, number],
      dilation: [1, 1] as [number, number], out: [12, 12] as [number, number], groups: 1, activation: 'none' as const };
    expect(() => wasmConv.conv2d(x, w, null, attrs)).not.toThrow();
    // The same call with the banded Winograd job (kind 39, F(4x4, 5x5)) given half the scratch it asks for.
    const orig = rt.run;
    rt.run = function (this: unknown, kind: number, n: number, bytes: number, parallel: boolean) {
      return orig.call(this, kind, n, kind === 39 ? bytes >> 1 : bytes, parallel);
    };
    try {
      expect(() => wasmConv.conv2d(x, w, null, attrs)).toThrow(/kind 39 wrote past its \d+ bytes of scratch/);
    } finally {
      rt.run = orig;
    }
  });

  it('starts its worker threads and shares one memory with them', async () => {
    const threads = await workersReady();
    expect(runtime().shared).toBe(true);
    expect(threads).toBeGreaterThanOrEqual(1);
  });

  it('survives memory growth between threaded kernels (arena grown, workers still in step)', () => {
    for (const n of [64, 700, 90, 1500, 33]) {
      const a = kt([n, 200], n);
      const b = kt([200, 300], n + 1);
      const { threaded, single } = bothPaths(() => ck.getBackend() && runtime() && wasmMatMul(a, b));
      expectSame(threaded, single, `n=${n}`);
    }
  });

  it('computes elementwise ops exactly as the js reference, threaded or not', () => {
    const n = 300_001;
    const x = { data: values(n, 3), shape: [n] };
    const y = { data: values(n, 4), shape: [n] };
    for (const op of ['relu', leakyRelu.declaration, 'neg', 'abs', 'sqrt', 'square'] as const) {
      const name = typeof op === 'string' ? op : op.name;
      const r = bothPaths(() => wasmElt.unary(x, op, 0.1));
      expectSame(r.threaded, jsElt.unary(x, op, 0.1), name);
      expectSame(r.single, r.threaded, `${name} single`);
    }
    for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const) {
      expectSame(wasmElt.binary(x, y, op, [n]), jsElt.binary(x, y, op, [n]), op);
    }
    expectSame(wasmElt.unaryGrad(x, x, y, 'relu', 0), jsElt.unaryGrad(x, x, y, 'relu', 0), 'relu grad');
  });

  it('does not keep the process alive: a script that used threads exits on its own', () => {
    const dir = mkdtempSync(join(tmpdir(), 'convkit-wasm-'));
    const script = join(dir, 'exit.ts');
    writeFileSync(script, [
      `import * as ck from ${JSON.stringify(join(root, 'src/index.ts'))};`,
      `await ck.setBackend('wasm');`,
      `await new Promise((r) => setTimeout(r, 200));`,
      `const x = ck.randn([1, 16, 40, 40]); const w = ck.randn([16, 16, 3, 3]);`,
      `console.log('shape', ck.F.conv2d(x, w, null, { padding: 1 }).shape.join('x'));`,
    ].join('\n'));
    const res = spawnSync(process.execPath, [join(root, 'node_modules/vite-node/vite-node.mjs'), script], {
      cwd: root, timeout: 30_000, encoding: 'utf8',
    });
    expect(res.error, 'timed out: a worker kept the process alive').toBeUndefined();
    expect(res.stdout).toContain('shape 1x16x40x40');
    expect(res.status).toBe(0);
  });
});

import { matMul } from '../../src/backend/wasm/matmul.js';
import type { KernelTensor } from '../../src/backend/kernels.js';
function wasmMatMul(a: KernelTensor, b: KernelTensor): Float32Array {
  return matMul(a, b, false, false, null, 'none');
}

import * as jsPool from '../../src/backend/js/pool2d.js';
import * as jsNorm from '../../src/backend/js/normalization.js';
import * as planes from '../../src/backend/wasm/planes.js';
import * as wpool from '../../src/backend/wasm/pool2d.js';

describe('wasm pooling, batch norm and channel sums against the js reference', () => {
  it('max pools with the same outputs and switches, NaN and padding included, and routes gradients', () => {
    const x = kt([3, 5, 23, 17], 21);
    x.data[100] = NaN;
    x.data[101] = NaN;
    for (const [k, s, p, d] of [[2, 2, 0, 1], [3, 2, 1, 1], [3, 1, 1, 2], [2, 3, 1, 1]] as const) {
      const out: [number, number] = [Math.floor((23 + 2 * p - d * (k - 1) - 1) / s) + 1, Math.floor((17 + 2 * p - d * (k - 1) - 1) / s) + 1];
      const a = { kernel: [k, k] as [number, number], stride: [s, s] as [number, number], pad: [p, p, p, p] as [number, number, number, number], dilation: [d, d] as [number, number], out };
      const r = wpool.maxPool2DWithArgmax(x, a);
      const e = jsPool.maxPool2DWithArgmax(x, a);
      expect(Array.from(r.indices)).toEqual(Array.from(e.indices));
      expectSame(r.output, e.output, `maxpool k${k} s${s} p${p} d${d}`);
      const dy = kt([3, 5, ...out], 22);
      expectSame(wpool.maxPool2DGrad(dy, e.indices, x.shape), jsPool.maxPool2DGrad(dy, e.indices, x.shape), 'maxpool grad');
    }
  });

  it('normalizes with fixed statistics and sums over all but the channel axes', () => {
    const x = kt([4, 6, 15, 13], 31);
    const [mean, variance, weight, bias] = [kt([6], 32), { data: values(6, 33).map((v) => v + 1.5), shape: [6] }, kt([6], 34), kt([6], 35)];
    expectSame(planes.batchNorm(x, mean, variance, weight, bias, 1e-5), jsNorm.batchNorm(x, mean, variance, weight, bias, 1e-5), 'batch norm');
    expectSame(planes.batchNorm(x, mean, variance, null, null, 1e-3), jsNorm.batchNorm(x, mean, variance, null, null, 1e-3), 'batch norm, no affine');
    for (const axes of [[0, 2, 3], [0], [2, 3], [0, 1], [3], [1, 2]]) {
      for (const op of ['sum', 'mean', 'max'] as const) {
        expectSame(planes.reduce(x, axes, op), jsElt.reduce(x, axes, op), `reduce ${op} over ${axes}`);
      }
    }
  });
});
