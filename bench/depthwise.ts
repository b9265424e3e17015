/**
 * Depthwise, grouped and transposed convolutions on the wasm backend: each pass's kernel
 * (Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter) timed with the direct kernels of
 * assembly/depthwise.ts ("new") and without them ("old": depthwiseTuning.mode = 'off', the GEMM
 * paths of conv2d.ts), alternating run by run in one process; then a small depthwise-separable
 * network's inference both ways. Inputs live in wasm memory and outputs stay there (tidy), so
 * the times are the kernels' own. The machine is shared: read the minimum and the median.
 *   npx vite-node bench/depthwise.ts [--runs=9] [--only=dw3x3_s1,...]
 * Never part of `npm test`.
 */
import * as ck from '../src/index.js';
import { median, values } from './kernel-inputs.js';
import type { Conv2DAttrs, KernelTensor } from '../src/backend/kernels.js';
import * as wasm from '../src/backend/wasm/conv2d.js';
import { depthwiseTuning } from '../src/backend/wasm/depthwise.js';
import { runtime } from '../src/backend/wasm/instance.js';
import { kout } from '../src/ops/kernel-io.js';

const args = process.argv.slice(2);
const runs = Number(args.find((a) => a.startsWith('--runs='))?.split('=')[1] ?? 9);
const only = args.find((a) => a.startsWith('--only='))?.split('=')[1]?.split(',');
// --cpu: one thread, and CPU time instead of wall time (steadier on a machine others load).
const cpu = args.includes('--cpu');
// --lanes: "old" is the forward without the lanes kernel (depthwiseTuning.lanes 'off') rather than the GEMM paths.
const lanes = args.includes('--lanes');

interface Shape {
  name: string;
  x: [number, number, number, number];
  k: number;
  kernel: number;
  stride: number;
  pad: number;
  groups: number;
  /** A transposed convolution: its forward is Conv2DBackpropInput (x is "dy"), listed first. */
  transposed?: boolean;
}

const SHAPES: Shape[] = [
  { name: 'dw3x3_s1', x: [8, 128, 56, 56], k: 128, kernel: 3, stride: 1, pad: 1, groups: 128 },
  { name: 'dw3x3_s2', x: [8, 128, 56, 56], k: 128, kernel: 3, stride: 2, pad: 1, groups: 128 },
  { name: 'dw3x3_b1', x: [1, 32, 112, 112], k: 32, kernel: 3, stride: 1, pad: 1, groups: 32 },
  { name: 'dw3x3_c64', x: [1, 64, 56, 56], k: 64, kernel: 3, stride: 1, pad: 1, groups: 64 },
  { name: 'dw3x3_m2', x: [1, 64, 56, 56], k: 128, kernel: 3, stride: 1, pad: 1, groups: 64 },
  { name: 'dw5x5_s1', x: [8, 240, 14, 14], k: 240, kernel: 5, stride: 1, pad: 2, groups: 240 },
  { name: 'dw7x7_s1', x: [1, 96, 56, 56], k: 96, kernel: 7, stride: 1, pad: 3, groups: 96 },
  // Many small planes (late MobileNet stages, large batches): per-plane overheads dominate.
  { name: 'dw3x3_p20', x: [64, 256, 20, 20], k: 256, kernel: 3, stride: 1, pad: 1, groups: 256 },
  { name: 'dw3x3_p10s2', x: [128, 128, 10, 10], k: 128, kernel: 3, stride: 2, pad: 1, groups: 128 },
  { name: 'dw3x3_p7', x: [32, 512, 7, 7], k: 512, kernel: 3, stride: 1, pad: 1, groups: 512 },
  { name: 'dw5x5_p14s2', x: [100, 24, 14, 14], k: 24, kernel: 5, stride: 2, pad: 2, groups: 24 },
  { name: 'g32x4_s1', x: [8, 128, 56, 56], k: 128, kernel: 3, stride: 1, pad: 1, groups: 32 },
  { name: 'g32x8_s2', x: [8, 256, 56, 56], k: 256, kernel: 3, stride: 2, pad: 1, groups: 32 },
  { name: 'g8x16_s1', x: [8, 128, 28, 28], k: 128, kernel: 3, stride: 1, pad: 1, groups: 8 },
  { name: 'pw1x1', x: [8, 128, 56, 56], k: 128, kernel: 1, stride: 1, pad: 0, groups: 1 },
  // Decoders: x [8, 64, 28, 28] up to 56 x 56 (the convolution seen backwards: dx is the output).
  { name: 'convT3x3_s2', x: [8, 64, 56, 56], k: 64, kernel: 3, stride: 2, pad: 1, groups: 1, transposed: true },
  { name: 'convT4x4_s2', x: [8, 64, 56, 56], k: 64, kernel: 4, stride: 2, pad: 1, groups: 1, transposed: true },
  { name: 'dwT4x4_s2', x: [8, 64, 56, 56], k: 64, kernel: 4, stride: 2, pad: 1, groups: 64, transposed: true },
];

/** A tensor whose data lives in wasm memory already (kernels read it in place). */
function resident(shape: number[], seed: number): KernelTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const rt = runtime();
  const data = ck.tidy(() => {
    rt.begin();
    const v = rt.read(rt.alloc(n), n);
    v.set(values(n, seed));
    return v;
  });
  return { data, shape };
}

function time(fn: () => unknown): number {
  const c0 = process.cpuUsage();
  const t = performance.now();
  // The output becomes a tensor of the scope, so its wasm block is free again for the next run.
  ck.tidy(() => {
    const out = fn();
    if (out instanceof Float32Array) kout(out, [out.length]);
  });
  if (!cpu) return performance.now() - t;
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

/** Median and minimum ms of `a` (new) and `b` (old), alternating which goes first. */
function ab(fn: () => unknown): { newMs: number[]; oldMs: number[] } {
  const newMs: number[] = [], oldMs: number[] = [];
  const once = (mode: 'auto' | 'off', into: number[]) => {
    if (lanes) depthwiseTuning.lanes = mode;
    else depthwiseTuning.mode = mode;
    into.push(time(fn));
  };
  for (let i = 0; i < 2; i++) {
    once('auto', []);
    once('off', []);
  }
  for (let i = 0; i < runs; i++) {
    if (i % 2) {
      once('off', oldMs);
      once('auto', newMs);
    } else {
      once('auto', newMs);
      once('off', oldMs);
    }
  }
  depthwiseTuning.mode = 'auto';
  depthwiseTuning.lanes = 'auto';
  return { newMs, oldMs };
}

const fmt = (ms: number, gflop: number) => `${ms.toFixed(2).padStart(7)} ms ${(gflop / ms).toFixed(1).padStart(5)} GF/s`;

await ck.setBackend('wasm');
{
  const rt = runtime();
  for (let i = 0; i < 100 && rt.pool && !rt.pool.ready(); i++) await new Promise((r) => setTimeout(r, 50));
  if (cpu) rt.singleThreaded = true;
}
console.log(`wasm backend, ${runtime().plannedThreads()} threads${cpu ? ', CPU time' : ''}; new = assembly/depthwise.ts, old = depthwiseTuning.mode 'off'.`);
console.log(`min and median of ${runs} runs each, new and old alternating (a shared 2-core machine: noisy)`);
for (const s of SHAPES.filter((c) => !only || only.includes(c.name))) {
  const [n, c, h, w] = s.x;
  const out = Math.floor((h + 2 * s.pad - s.kernel) / s.stride) + 1;
  const attrs: Conv2DAttrs = {
    kernel: [s.kernel, s.kernel], stride: [s.stride, s.stride], pad: [s.pad, s.pad, s.pad, s.pad], dilation: [1, 1],
    out: [out, out], groups: s.groups, activation: 'none',
  };
  const x = resident([n, c, h, w], 1);
  const wt = resident([s.k, c / s.groups, s.kernel, s.kernel], 2);
  const dy = resident([n, s.k, out, out], 3);
  const gflop = (2 * n * s.k * (c / s.groups) * s.kernel * s.kernel * out * out) / 1e6; // per ms
  const passes: [string, () => unknown][] = [
    ['Conv2D', () => wasm.conv2d(x, wt, null, attrs)],
    ['Conv2DBackpropInput', () => wasm.conv2dBackpropInput(dy, wt, x.shape, attrs)],
    ['Conv2DBackpropFilter', () => wasm.conv2dBackpropFilter(x, dy, wt.shape, attrs)],
  ];
  if (s.transposed) passes.unshift(passes.splice(1, 1)[0]!);
  console.log(`\n${s.name}: conv x ${s.x.join('x')} -> ${s.k} ${s.kernel}x${s.kernel} stride ${s.stride} pad ${s.pad} groups ${s.groups}${s.transposed ? ' (transposed: forward = Conv2DBackpropInput)' : ''}`);
  for (const [pass, fn] of passes) {
    const { newMs, oldMs } = ab(fn);
    console.log(`  ${pass.padEnd(21)} new min ${fmt(Math.min(...newMs), gflop)} med ${fmt(median(newMs), gflop)} | old min ${fmt(Math.min(...oldMs), gflop)} med ${fmt(median(oldMs), gflop)}`);
  }
}

// A depthwise-separable network (MobileNet v1's blocks at 56 x 56 and 28 x 28), inference.
if (!only || only.includes('dwsep_net')) {
  const { nn } = ck;
  const block = (cin: number, cout: number, stride: number) => [
    new nn.Conv2d(cin, cin, 3, { stride, padding: 1, groups: cin, bias: false, fit: 'floor' }), new nn.BatchNorm2d(cin), new nn.ReLU(),
    new nn.Conv2d(cin, cout, 1, { bias: false }), new nn.BatchNorm2d(cout), new nn.ReLU(),
  ];
  const model = new nn.Sequential(...block(64, 128, 1), ...block(128, 128, 1), ...block(128, 256, 2), ...block(256, 256, 1)).eval();
  const xin = ck.randn([8, 64, 56, 56], { seed: 1 });
  const { newMs, oldMs } = ab(() => ck.noGrad(() => model.forward(xin).dataSync()));
  console.log(`\ndwsep_net (4 MobileNet blocks, 64 -> 256 channels, 56 x 56 -> 28 x 28, batch 8, eval): new min ${Math.min(...newMs).toFixed(2)} med ${median(newMs).toFixed(2)} ms | old min ${Math.min(...oldMs).toFixed(2)} med ${median(oldMs).toFixed(2)} ms`);
}
process.exit(0);
