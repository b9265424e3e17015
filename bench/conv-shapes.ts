/**
 * The wasm backend's convolution kernels on the shapes ConvNets train and run, each pass on its
 * own (forward, input gradient, filter gradient), called as the backend's ops call them (copies
 * in and out of the wasm memory included): ms (median of the runs; the fastest in brackets) and
 * GFLOP/s (2 x multiply-adds of the direct convolution over the median time).
 *   npx vite-node bench/conv-shapes.ts [--runs=9] [--only=vgg,1x1] [--pass=fwd,dx,dw]
 *       [--modes=auto,off]   winogradTuning.mode values to compare, run alternately
 *       [--grad=64:1048576,128:4194304]  filter-gradient tuning (chunk tiles : M bytes [: plan, 'cost' or
 *                            'counted': the split of winogradGradTuning.plan]) to compare
 *       [--copy]             operands copied in and outputs out on every call (by default they live in
 *                            wasm memory, as a network's do inside tidy scopes)
 *       [--threads=1]        the calling thread alone (rt.singleThreaded)
 *       [--cpu]              with --threads=1: process CPU time instead of wall time (less hurt by other
 *                            work on a shared machine; cache contention still counts)
 * Never part of `npm test`. The machine is shared: compare only figures from one run.
 */
import * as ck from '../src/index.js';
import { kt, median, values } from './kernel-inputs.js';
import { unary } from '../src/backend/wasm/elementwise.js';
import type { Conv2DAttrs, KernelTensor } from '../src/backend/kernels.js';
import * as wasm from '../src/backend/wasm/conv2d.js';
import { runtime } from '../src/backend/wasm/instance.js';
import * as winograd from '../src/backend/wasm/winograd.js';
import { winogradGradTuning } from '../src/backend/wasm/winograd-grad.js';

const { winogradTuning } = winograd;

type Mode = typeof winogradTuning.mode;
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const runs = Number(opt('runs') ?? 9);
const only = opt('only')?.split(',');
const cpu = args.includes('--cpu');
const copy = args.includes('--copy');
const passes = (opt('pass') ?? 'fwd,dx,dw').split(',');
// --modes=auto,off or --grad=64:1048576,128:4194304 (filter-gradient chunk tiles : M bytes), alternated.
const grads = opt('grad')?.split(',').map((g) => g.split(':'));
const modes = (opt('modes') ?? (grads ? grads.map(() => 'auto').join(',') : 'auto')).split(',') as Mode[];

interface Shape { name: string; n: number; c: number; k: number; h: number; r: number; s?: number; p?: number; d?: number; w?: number }
const S = (name: string, n: number, c: number, k: number, h: number, r: number, extra: Partial<Shape> = {}): Shape => ({ name, n, c, k, h, r, ...extra });

const SHAPES: Shape[] = [
  // VGG-style batch-norm net on CIFAR (32x32x3), batch 64.
  S('vgg 3->64@32', 64, 3, 64, 32, 3), S('vgg 64->64@32', 64, 64, 64, 32, 3),
  S('vgg 64->128@16', 64, 64, 128, 16, 3), S('vgg 128->128@16', 64, 128, 128, 16, 3),
  S('vgg 128->256@8', 64, 128, 256, 8, 3), S('vgg 256->256@8', 64, 256, 256, 8, 3),
  // ResNet-18 at 112x112, batch 16 (training): the stem, each stage's 3x3, the stride-2 3x3 and 1x1 shortcuts.
  S('r18 stem 7x7s2 3->64@112', 16, 3, 64, 112, 7, { s: 2, p: 3 }), S('r18 64@28', 16, 64, 64, 28, 3),
  S('r18 3x3s2 64->128@28', 16, 64, 128, 28, 3, { s: 2 }), S('r18 1x1s2 64->128@28', 16, 64, 128, 28, 1, { s: 2 }),
  S('r18 128@14', 16, 128, 128, 14, 3), S('r18 3x3s2 128->256@14', 16, 128, 256, 14, 3, { s: 2 }),
  S('r18 1x1s2 128->256@14', 16, 128, 256, 14, 1, { s: 2 }), S('r18 256@7', 16, 256, 256, 7, 3),
  S('r18 3x3s2 256->512@7', 16, 256, 512, 7, 3, { s: 2 }), S('r18 1x1s2 256->512@7', 16, 256, 512, 7, 1, { s: 2 }),
  S('r18 512@4', 16, 512, 512, 4, 3),
  // CIFAR ResNet-20, batch 128 (training): each stage's 3x3 and the stride-2 3x3 that opens a stage.
  S('r20 16@32 b128', 128, 16, 16, 32, 3), S('r20 32@16 b128', 128, 32, 32, 16, 3), S('r20 64@8 b128', 128, 64, 64, 8, 3),
  S('r20 3x3s2 16->32@32 b128', 128, 16, 32, 32, 3, { s: 2 }), S('r20 3x3s2 32->64@16 b128', 128, 32, 64, 16, 3, { s: 2 }),
  // First layers: 1-3 input channels, 3x3 stride 1, the filter count and batch varied.
  S('first 3->16@32 b128', 128, 3, 16, 32, 3), S('first 3->32@32 b64', 64, 3, 32, 32, 3), S('first 3->64@32 b8', 8, 3, 64, 32, 3),
  S('first 3->64@32 b128', 128, 3, 64, 32, 3), S('first 3->128@32 b32', 32, 3, 128, 32, 3), S('first 3->64@224 b1', 1, 3, 64, 224, 3),
  S('first 1->64@28 b64', 64, 1, 64, 28, 3), S('first 2->48@28 b16', 16, 2, 48, 28, 3),
  // The BN ConvNet on 28x28x1, batch 64.
  S('bn28 1->32@28', 64, 1, 32, 28, 3), S('bn28 32->32@28', 64, 32, 32, 28, 3), S('bn28 32->32@14', 64, 32, 32, 14, 3),
  // 3x3 stride 1 on small images with many channels.
  S('small 64@32 b1', 1, 64, 64, 32, 3), S('small 128@16 b1', 1, 128, 128, 16, 3), S('small 256@8 b1', 1, 256, 256, 8, 3),
  S('small 512@4 b1', 1, 512, 512, 4, 3), S('small 512@4 b16', 16, 512, 512, 4, 3), S('small 512@4 b128', 128, 512, 512, 4, 3),
  S('small 256@8 b32', 32, 256, 256, 8, 3), S('small 512@8 b8', 8, 512, 512, 8, 3),
  // Late stages of ResNets and CIFAR VGGs: 2x2 .. 14x14 outputs at batch 1 to 128, odd sizes.
  S('small 256@7 b1', 1, 256, 256, 7, 3), S('small 256@7 b16', 16, 256, 256, 7, 3),
  S('small 512@7 b1', 1, 512, 512, 7, 3), S('small 512@7 b8', 8, 512, 512, 7, 3),
  S('small 128@14 b1', 1, 128, 128, 14, 3), S('small 128@14 b64', 64, 128, 128, 14, 3),
  S('small 256@8 b64', 64, 256, 256, 8, 3), S('small 64@6 b32', 32, 64, 64, 6, 3),
  S('small 512@2 b16', 16, 512, 512, 2, 3), S('small 256@3 b16', 16, 256, 256, 3, 3),
  S('small 96@5 b8', 8, 96, 96, 5, 3), S('small 48@11 b4', 4, 48, 48, 11, 3),
  // Large images (VGG-16 at 224).
  S('big 64@224 b1', 1, 64, 64, 224, 3), S('big 128@112 b1', 1, 128, 128, 112, 3), S('big 64@112 b4', 4, 64, 64, 112, 3),
  // 1x1 (bottleneck blocks), batch 1 and 64; 1x1 stride 2 (downsample shortcut).
  S('1x1 64->256@56 b1', 1, 64, 256, 56, 1), S('1x1 256->64@56 b1', 1, 256, 64, 56, 1),
  S('1x1 512->128@28 b1', 1, 512, 128, 28, 1), S('1x1 256->1024@14 b1', 1, 256, 1024, 14, 1),
  S('1x1 2048->512@7 b1', 1, 2048, 512, 7, 1), S('1x1 256->64@56 b8', 8, 256, 64, 56, 1),
  S('1x1 1024->256@14 b64', 64, 1024, 256, 14, 1),
  S('1x1s2 256->512@56 b1', 1, 256, 512, 56, 1, { s: 2 }), S('1x1s2 1024->2048@14 b1', 1, 1024, 2048, 14, 1, { s: 2 }),
  S('1x1s2 256->512@56 b16', 16, 256, 512, 56, 1, { s: 2 }),
  // 5x5 stride 1 (the CIFAR-10 demo's, LeNet-5's second).
  S('5x5 3->16@32 b64', 64, 3, 16, 32, 5), S('5x5 16->20@16 b64', 64, 16, 20, 16, 5), S('5x5 6->16@14 b64', 64, 6, 16, 14, 5, { p: 0 }),
  // Strided and large kernels, dilation.
  S('3x3s2 128@56 b1', 1, 128, 128, 56, 3, { s: 2 }), S('3x3s2 64->128@32 b64', 64, 64, 128, 32, 3, { s: 2 }),
  S('stem 7x7s2 3->64@224 b1', 1, 3, 64, 224, 7, { s: 2, p: 3 }), S('stem 7x7s2 3->64@224 b8', 8, 3, 64, 224, 7, { s: 2, p: 3 }),
  S('alexnet 11x11s4 3->64@224 b1', 1, 3, 64, 224, 11, { s: 4, p: 2 }),
  S('dil2 3x3 64@32 b8', 8, 64, 64, 32, 3, { d: 2 }), S('dil2 3x3 256@28 b1', 1, 256, 256, 28, 3, { d: 2 }),
  S('dil2 3x3 64@56 b1', 1, 64, 64, 56, 3, { d: 2 }), S('dil3 3x3 128@28 b2', 2, 128, 128, 28, 3, { d: 3 }),
].filter((s) => !only || only.some((o) => s.name.includes(o)));


async function main(): Promise<void> {
  const rt = runtime();
  for (let i = 0; i < 100 && rt.pool && !rt.pool.ready(); i++) await new Promise((r) => setTimeout(r, 50));
  if (opt('threads') === '1') rt.singleThreaded = true;
  console.log(`threads ${rt.threads()}, median of ${runs} runs (fastest in brackets), modes ${modes.join(' / ')} alternating`);
  for (const sh of SHAPES) {
    const s = sh.s ?? 1, d = sh.d ?? 1, p = sh.p ?? (d * (sh.r - 1)) >> 1;
    const w = sh.w ?? sh.h;
    const out = (len: number) => Math.floor((len + 2 * p - d * (sh.r - 1) - 1) / s) + 1;
    const attrs: Conv2DAttrs = {
      kernel: [sh.r, sh.r], stride: [s, s], pad: [p, p, p, p], dilation: [d, d], groups: 1, activation: 'none', out: [out(sh.h), out(w)],
    };
    // Resident operands: a wasm op's output inside a tidy scope is a view of wasm memory.
    const resident = (t: KernelTensor): KernelTensor => copy ? t : { shape: t.shape, data: ck.tidy(() => unary({ shape: t.shape, data: unary(t, 'neg', 0) }, 'neg', 0)) };
    const x = resident(kt([sh.n, sh.c, sh.h, w], 1));
    const wt = resident(kt([sh.k, sh.c, sh.r, sh.r], 2));
    const dy = resident(kt([sh.n, sh.k, ...attrs.out], 3));
    const flop = 2 * sh.n * sh.k * sh.c * sh.r * sh.r * attrs.out[0] * attrs.out[1];
    // Outputs freed right away, as a training step's tidy scopes free them: blocks reused, no
    // fresh pages (freeing by the garbage collector alone would grow memory call by call).
    const free = rt as unknown as { release(d: Float32Array): void };
    const scoped = (f: () => Float32Array) => () => { if (copy) f(); else free.release(ck.tidy(f)); };
    const fns: Record<string, () => unknown> = {
      fwd: scoped(() => wasm.conv2d(x, wt, null, attrs)),
      dx: scoped(() => wasm.conv2dBackpropInput(dy, wt, x.shape, attrs)),
      dw: scoped(() => wasm.conv2dBackpropFilter(x, dy, wt.shape, attrs)),
    };
    const cells: string[] = [];
    for (const pass of passes) {
      const fn = fns[pass]!;
      const times = modes.map(() => [] as number[]);
      const reps = Math.max(3, Math.min(runs, Math.ceil(runs * 2e8 / flop)));
      for (let i = 0; i < reps + 1; i++) {
        modes.forEach((m, j) => {
          winogradTuning.mode = m;
          if (grads) {
            const [tiles, mBytes, plan] = grads[j]!;
            winogradGradTuning.tiles = Number(tiles);
            winogradGradTuning.mBytes = Number(mBytes);
            if (plan) winogradGradTuning.plan = plan as typeof winogradGradTuning.plan;
          }
          const t0 = performance.now(), c0 = process.cpuUsage();
          fn();
          const c1 = process.cpuUsage(c0);
          if (i > 0) times[j]!.push(cpu ? (c1.user + c1.system) / 1000 : performance.now() - t0);
        });
      }
      winogradTuning.mode = 'auto';
      cells.push(`${pass} ` + times.map((t) => `${median(t).toFixed(2)} [${Math.min(...t).toFixed(2)}] ms ${(flop / median(t) / 1e6).toFixed(1)} GF/s`).join(' | '));
    }
    console.log(`${sh.name.padEnd(30)} ${cells.join('   ')}`);
  }
}

void main();
