/**
 * Per-kernel times of batch norm training (and the elementwise kernels around it) at the shapes
 * of a VGG-style BN net at batch 64: the js reference kernel against the wasm one, called
 * alternately in the same process (the machine is noisy), inputs resident in wasm memory as in
 * a training step. Each call runs in a tidy scope that wraps its outputs in tensors, so wasm
 * outputs stay in wasm memory (no copy out, as in a training step) and are freed at the end of
 * the scope. Reports the median and the minimum of the runs, in ms.
 * --shapes=r20: ResNet-20's shapes at batch 128 instead (and the gradient with a fused ReLU).
 *   vite-node bench/kernels-bn.ts [--runs=15] [--step] [--shapes=r20]
 * Never part of `npm test`.
 */
import * as ck from '../src/index.js';
import { median } from './kernel-inputs.js';
import type { KernelTensor } from '../src/backend/kernels.js';
import * as jsEl from '../src/backend/js/elementwise.js';
import * as jsNorm from '../src/backend/js/normalization.js';
import * as jsSoft from '../src/backend/js/softmax.js';
import * as wasmBn from '../src/backend/wasm/batchnorm.js';
import * as wasmEl from '../src/backend/wasm/elementwise.js';
import { batchNorm as wasmBatchNorm, reduce as wasmReduce } from '../src/backend/wasm/planes.js';
import * as wasmSoft from '../src/backend/wasm/softmax.js';
import { runtime } from '../src/backend/wasm/instance.js';
import { getBackend } from '../src/backend/registry.js';
import { sigmoid, tanh } from '../src/ops/pointwise/table.js';

const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.split('=')[1] ?? 15);

/** A tensor whose storage lives in wasm memory (a wasm kernel's output inside a tidy scope). */
function makeResident(shape: number[], seed: number): KernelTensor {
  const x = ck.randn(shape, { seed }).dataSync();
  const once = wasmEl.unary({ data: x, shape }, 'neg', 0);
  return { data: wasmEl.unary({ data: once, shape }, 'neg', 0), shape };
}


/** Outputs (an array, or an object of arrays) as tensors of the current scope, which frees them. */
function keep(v: unknown): void {
  if (v instanceof Float32Array) new ck.Tensor(v, [v.length]);
  else if (v && typeof v === 'object') Object.values(v).forEach(keep);
}

function time(f: () => unknown): number {
  const t = performance.now();
  ck.tidy(() => keep(f()));
  return performance.now() - t;
}

/** Alternates a and b `runs` times (after a warm-up), returns [median, min] of each. */
function ab(a: () => unknown, b: () => unknown): [number, number, number, number] {
  a(); b();
  const ta: number[] = [], tb: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2) { tb.push(time(b)); ta.push(time(a)); } else { ta.push(time(a)); tb.push(time(b)); }
  }
  return [median(ta), Math.min(...ta), median(tb), Math.min(...tb)];
}

const fmt = (v: number) => v.toFixed(2).padStart(8);

// Wait for the worker threads.
for (let i = 0; i < 100 && !(runtime().pool?.ready() ?? true); i++) await new Promise((r) => setTimeout(r, 50));
console.log(`wasm threads: ${runtime().threads()}; ${runs} alternating runs; ms, median (min)`);
console.log(`${'kernel'.padEnd(44)}${'js'.padStart(20)}${'wasm'.padStart(20)}  speedup`);

function row(name: string, r: [number, number, number, number]): void {
  console.log(`${name.padEnd(44)}${fmt(r[0])} (${fmt(r[1])})${fmt(r[2])} (${fmt(r[3])})  ${(r[0] / r[2]).toFixed(1)}x`);
}

if (!process.argv.includes('--step')) {
  const inputs = new Map<string, KernelTensor>();
  const resident = (shape: number[], seed: number) => {
    const k = `${shape}/${seed}`;
    if (!inputs.has(k)) inputs.set(k, ck.tidy(() => makeResident(shape, seed)));
    return inputs.get(k)!;
  };
  const r20 = process.argv.includes('--shapes=r20');
  const shapes = r20 ? [[128, 16, 32, 32], [128, 32, 16, 16], [128, 64, 8, 8]] : [[64, 64, 32, 32], [64, 128, 16, 16], [64, 256, 8, 8]];
  for (const shape of shapes) {
    const c = shape[1]!;
    const x = resident(shape, 1);
    const dy = resident(shape, 2);
    const { mean, variance } = jsNorm.batchNormStats(x);
    const m = { data: mean, shape: [c] }, v = { data: variance, shape: [c] };
    const w = resident([c], 3), b = resident([c], 4);
    const s = `[${shape}]`;
    row(`BatchNormStats ${s}`, ab(() => jsNorm.batchNormStats(x), () => wasmBn.batchNormStats(x)));
    row(`BatchNormGrad ${s} batch stats`, ab(() => jsNorm.batchNormGrad(x, dy, m, v, w, 1e-5, true), () => wasmBn.batchNormGrad(x, dy, m, v, w, 1e-5, true)));
    if (r20) {
      const y = { data: wasmEl.unary(resident(shape, 5), 'relu', 0), shape };
      row(`BatchNormGrad ${s} + relu`, ab(() => jsNorm.batchNormGrad(x, dy, m, v, w, 1e-5, true, y), () => wasmBn.batchNormGrad(x, dy, m, v, w, 1e-5, true, y)));
    }
    row(`BatchNorm ${s} + relu`, ab(() => jsNorm.batchNorm(x, m, v, w, b, 1e-5, 'relu'), () => wasmBatchNorm(x, m, v, w, b, 1e-5, 'relu')));
  }
  const shape = [64, 64, 32, 32];
  const x = resident(shape, 5), dy = resident(shape, 6);
  const y = { data: wasmEl.unary(x, sigmoid.declaration, 0), shape };
  const cb = resident([1, 64, 1, 1], 7);
  row('Unary sigmoid [64,64,32,32]', ab(() => jsEl.unary(x, sigmoid.declaration, 0), () => wasmEl.unary(x, sigmoid.declaration, 0)));
  row('UnaryGrad sigmoid [64,64,32,32]', ab(() => jsEl.unaryGrad(x, y, dy, sigmoid.declaration, 0), () => wasmEl.unaryGrad(x, y, dy, sigmoid.declaration, 0)));
  row('Unary tanh [64,64,32,32]', ab(() => jsEl.unary(x, tanh.declaration, 0), () => wasmEl.unary(x, tanh.declaration, 0)));
  row('Binary mul [64,64,32,32] x [1,64,1,1]', ab(() => jsEl.binary(x, cb, 'mul', shape), () => wasmEl.binary(x, cb, 'mul', shape)));
  row('Reduce max [64,64,32,32] axes [2,3]', ab(() => jsEl.reduce(x, [2, 3], 'max'), () => wasmReduce(x, [2, 3], 'max')));
  for (const ls of [[64, 10], [256, 1000]]) {
    const l = resident(ls, 8), g = resident(ls, 9);
    const ly = { data: jsSoft.logSoftmax(l, 1), shape: ls };
    row(`LogSoftmax [${ls}]`, ab(() => jsSoft.logSoftmax(l, 1), () => wasmSoft.logSoftmax(l, 1)));
    row(`LogSoftmaxGrad [${ls}]`, ab(() => jsSoft.logSoftmaxGrad(ly, g, 1), () => wasmSoft.logSoftmaxGrad(ly, g, 1)));
  }
}

// --step (instead of the table): a whole training step of a VGG-style BN net (CIFAR-size input, batch 64), with the
// kernels this bench is about on wasm, against the same step with them taken off the wasm
// backend (so they fall back to js, as before they existed), alternating.
if (process.argv.includes('--step')) {
  const { nn, F } = ck;
  const block = (cin: number, cout: number) => [new nn.Conv2d(cin, cout, 3, { padding: 1 }), new nn.BatchNorm2d(cout), new nn.ReLU()];
  const model = new nn.Sequential(
    ...block(3, 64), ...block(64, 64), new nn.MaxPool2d(2), ...block(64, 128), ...block(128, 128), new nn.MaxPool2d(2),
    ...block(128, 256), ...block(256, 256), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(256 * 16, 10),
  );
  const opt = new ck.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const images = ck.randn([64, 3, 32, 32], { seed: 1 });
  const labels = ck.randint(0, 10, [64], { seed: 2 });
  const step = () => ck.tidy(() => {
    const loss = F.crossEntropy(model.forward(images), labels);
    loss.backward();
    opt.step();
    opt.zeroGrad();
  });
  const kernels = getBackend().kernels as Record<string, unknown>;
  const names = ['BatchNormStats', 'BatchNormGrad', 'Softmax', 'LogSoftmax', 'SoftmaxGrad', 'LogSoftmaxGrad', 'NllLoss', 'NllLossGrad'];
  const own = Object.fromEntries(names.map((k) => [k, kernels[k]]));
  const withJs = () => { names.forEach((k) => delete kernels[k]); try { step(); } finally { Object.assign(kernels, own); } };
  const [jm, jmin, wm, wmin] = ab(withJs, step);
  console.log(`VGG-BN step, batch 64, 32x32: those kernels on js ${fmt(jm)} (${fmt(jmin)})  on wasm ${fmt(wm)} (${fmt(wmin)})  ${(jm / wm).toFixed(2)}x`);
}
