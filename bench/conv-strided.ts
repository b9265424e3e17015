/**
 * Strided and large-kernel convolutions on the wasm backend, each pass on its own, with the
 * batched GEMM paths (src/backend/wasm/strided.ts) forced on or off, alternately in one
 * process: ms (median; fastest in brackets) and GFLOP/s (2 x multiply-adds of the direct
 * convolution over the median time). Shapes of ResNet-18@112 b16 and shapes in no benchmark.
 *   npx vite-node bench/conv-strided.ts [--runs=7] [--only=r18,odd] [--pass=fwd,dx,dw]
 *       [--modes=on,off]  stridedTuning.batch values to compare   [--threads=1 [--cpu]]
 * Never part of `npm test`. The machine is shared: compare only figures from one run.
 */
import * as ck from '../src/index.js';
import { kt, median, values } from './kernel-inputs.js';
import { unary } from '../src/backend/wasm/elementwise.js';
import type { Conv2DAttrs, KernelTensor } from '../src/backend/kernels.js';
import * as wasm from '../src/backend/wasm/conv2d.js';
import { runtime } from '../src/backend/wasm/instance.js';
import { stridedTuning } from '../src/backend/wasm/strided.js';

type Mode = typeof stridedTuning.batch;
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const runs = Number(opt('runs') ?? 7);
const only = opt('only')?.split(',');
const cpu = args.includes('--cpu');
const passes = (opt('pass') ?? 'fwd,dx,dw').split(',');
// --modes=on,off (stridedTuning.batch), or on:256,on:512,off (batch : columns per GEMM task)
const modes = (opt('modes') ?? 'on,off').split(',').map((m) => m.split(':')) as [Mode, string?][];

interface Shape { name: string; n: number; c: number; k: number; h: number; r: number; s: number; p: number; w?: number }
const S = (name: string, n: number, c: number, k: number, h: number, r: number, s: number, p: number, w?: number): Shape => ({ name, n, c, k, h, r, s, p, w });

const SHAPES: Shape[] = [
  S('r18 stem 7x7s2 3->64@112 b16', 16, 3, 64, 112, 7, 2, 3),
  S('r18 3x3s2 64->128@28 b16', 16, 64, 128, 28, 3, 2, 1),
  S('r18 3x3s2 128->256@14 b16', 16, 128, 256, 14, 3, 2, 1),
  S('r18 3x3s2 256->512@7 b16', 16, 256, 512, 7, 3, 2, 1),
  S('r18 1x1s2 128->256@14 b16', 16, 128, 256, 14, 1, 2, 0),
  S('odd 3x3s2 64->96@33 b1', 1, 64, 96, 33, 3, 2, 1),
  S('odd 3x3s2 64->96@33 b64', 64, 64, 96, 33, 3, 2, 1),
  S('odd 5x5s2 32->64@27 b8', 8, 32, 64, 27, 5, 2, 2),
  S('odd 3x3s3 48->80@20x17 b4', 4, 48, 80, 20, 3, 3, 1, 17),
  S('odd 3x3s2 p0 96->160@9 b32', 32, 96, 160, 9, 3, 2, 0),
  S('odd 11x11s4 3->64@99 b4', 4, 3, 64, 99, 11, 4, 2),
  S('odd 7x7s2 3->32@61 b2', 2, 3, 32, 61, 7, 2, 3),
  S('pw 1x1 512->2048@7 b16', 16, 512, 2048, 7, 1, 1, 0),
  S('pw 1x1 1024->256@14 b8', 8, 1024, 256, 14, 1, 1, 0),
  S('pw 1x1 96->160@9 b32', 32, 96, 160, 9, 1, 1, 0),
  S('mobilenet stem 3x3s2 3->32@224 b4', 4, 3, 32, 224, 3, 2, 1),
  S('few 3x3s2 16->24@57 b8', 8, 16, 24, 57, 3, 2, 1),
  S('few 3x3s2 8->16@32 b64', 64, 8, 16, 32, 3, 2, 1),
  S('few 3x3s2 32->32@32 b16', 16, 32, 32, 32, 3, 2, 1),
  S('few 5x5s2 6->16@28 b64', 64, 6, 16, 28, 5, 2, 2),
  S('few 3x3s2 24->32@113 b2', 2, 24, 32, 113, 3, 2, 1),
].filter((s) => !only || only.some((o) => s.name.includes(o)));


async function main(): Promise<void> {
  const rt = runtime();
  for (let i = 0; i < 100 && rt.pool && !rt.pool.ready(); i++) await new Promise((r) => setTimeout(r, 50));
  if (opt('threads') === '1') rt.singleThreaded = true;
  console.log(`threads ${rt.threads()}, ${cpu ? 'CPU' : 'wall'} time, median of ${runs} runs (fastest in brackets), batch ${modes.map((m) => m.join(':')).join(' / ')} alternating`);
  for (const sh of SHAPES) {
    const w = sh.w ?? sh.h;
    const out = (len: number) => Math.floor((len + 2 * sh.p - sh.r) / sh.s) + 1;
    const attrs: Conv2DAttrs = {
      kernel: [sh.r, sh.r], stride: [sh.s, sh.s], pad: [sh.p, sh.p, sh.p, sh.p], dilation: [1, 1], groups: 1, activation: 'none', out: [out(sh.h), out(w)],
    };
    const resident = (t: KernelTensor): KernelTensor => ({ shape: t.shape, data: ck.tidy(() => unary({ shape: t.shape, data: unary(t, 'neg', 0) }, 'neg', 0)) });
    const x = resident(kt([sh.n, sh.c, sh.h, w], 1));
    const wt = resident(kt([sh.k, sh.c, sh.r, sh.r], 2));
    const dy = resident(kt([sh.n, sh.k, ...attrs.out], 3));
    const flop = 2 * sh.n * sh.k * sh.c * sh.r * sh.r * attrs.out[0] * attrs.out[1];
    const free = rt as unknown as { release(d: Float32Array): void };
    const scoped = (f: () => Float32Array) => () => free.release(ck.tidy(f));
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
          stridedTuning.batch = m[0];
          if (m[1]) stridedTuning.tileN = Number(m[1]);
          const t0 = performance.now(), c0 = process.cpuUsage();
          fn();
          const c1 = process.cpuUsage(c0);
          if (i > 0) times[j]!.push(cpu ? (c1.user + c1.system) / 1000 : performance.now() - t0);
        });
      }
      stridedTuning.batch = 'auto';
      cells.push(`${pass} ` + times.map((t) => `${median(t).toFixed(2)} [${Math.min(...t).toFixed(2)}] ${(flop / median(t) / 1e6).toFixed(1)}`).join(' | '));
    }
    console.log(`${sh.name.padEnd(30)} ${cells.join('   ')}`);
  }
}

void main();
