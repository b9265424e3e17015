/**
 * A/B of the phase decompositions (src/backend/wasm/dilated.ts, transposed.ts) against the
 * paths they replace (phaseTuning.mode 'off'), alternating in one process:
 *   npx vite-node bench/phases-ab.ts [--single] [--reps=N] [--only=name,part]
 * --single: the calling thread alone, process CPU time (less hurt by a shared machine).
 */
import '../src/index.js';
import * as wasm from '../src/backend/wasm/conv2d.js';
import { phaseTuning } from '../src/backend/wasm/dilated.js';
import { runtime } from '../src/backend/wasm/instance.js';
function kt(shape: number[], seed = 1) { const n = shape.reduce((a, b) => a * b, 1); const d = new Float32Array(n); let s = seed >>> 0; for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; d[i] = s / 2 ** 31 - 1; } return { data: d, shape }; }
function convAttrs(c: C) { const [, , h, w] = c.x; const stride = c.stride ?? [1, 1]; const pad = c.pad ?? [0, 0, 0, 0]; const dilation = c.dilation ?? [1, 1];
  const out: [number, number] = [Math.floor((h + pad[0] + pad[1] - dilation[0] * (c.kernel[0] - 1) - 1) / stride[0]) + 1, Math.floor((w + pad[2] + pad[3] - dilation[1] * (c.kernel[1] - 1) - 1) / stride[1]) + 1];
  return { kernel: c.kernel, stride, pad, dilation, out, groups: 1, activation: 'none' as const }; }
const single = process.argv.includes('--single');
const rt = runtime();
await new Promise((r) => setTimeout(r, 1000));
if (single) rt.singleThreaded = true;
type C = { name: string; x: [number, number, number, number]; k: number; kernel: [number, number]; stride?: [number, number]; pad?: [number, number, number, number]; dilation?: [number, number]; extra?: [number,number]; passes: string[] };
const cases: C[] = [
  { name: 'dilated 64@56 d2 b1', x: [1, 64, 56, 56], k: 64, kernel: [3, 3], dilation: [2, 2], pad: [2, 2, 2, 2], passes: ['fwd', 'dx', 'dw'] },
  { name: 'dilated 64@56 d2 b8', x: [8, 64, 56, 56], k: 64, kernel: [3, 3], dilation: [2, 2], pad: [2, 2, 2, 2], passes: ['fwd'] },
  { name: 'dilated 256@28 d2 b1', x: [1, 256, 28, 28], k: 256, kernel: [3, 3], dilation: [2, 2], pad: [2, 2, 2, 2], passes: ['fwd'] },
  { name: 'convT 64->32 4x4 s2 28 b1', x: [1, 32, 56, 56], k: 64, kernel: [4, 4], stride: [2, 2], pad: [1, 1, 1, 1], passes: ['dx'] },
  { name: 'convT 64->32 4x4 s2 28 b8', x: [8, 32, 56, 56], k: 64, kernel: [4, 4], stride: [2, 2], pad: [1, 1, 1, 1], passes: ['dx'] },
  { name: 'convT 256->128 4x4 s2 14 b1', x: [1, 128, 28, 28], k: 256, kernel: [4, 4], stride: [2, 2], pad: [1, 1, 1, 1], passes: ['dx'] },
  { name: 'convT 128->64 2x2 s2 28 b4', x: [4, 64, 56, 56], k: 128, kernel: [2, 2], stride: [2, 2], passes: ['dx'] },
  { name: 'stem 7x7 s2 dx b4', x: [4, 64, 112, 112], k: 64, kernel: [7, 7], stride: [2, 2], pad: [3, 3, 3, 3], passes: ['dx'] },
];
const reps = Number(process.argv.find((a) => a.startsWith('--reps='))?.slice(7) ?? 15);
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
for (const c of cases.filter((c) => !only || only.split(',').some((o) => c.name.includes(o)))) {
  const attrs = convAttrs(c);
  const x = kt(c.x, 1), w = kt([c.k, c.x[1], ...c.kernel], 2), dy = kt([c.x[0], c.k, ...attrs.out], 3);
  for (const p of c.passes) {
    const fn = p === 'fwd' ? () => wasm.conv2d(x, w, null, attrs) : p === 'dx' ? () => wasm.conv2dBackpropInput(dy, w, x.shape, attrs) : () => wasm.conv2dBackpropFilter(x, dy, w.shape, attrs);
    const t = { auto: [] as number[], off: [] as number[] };
    for (let i = 0; i < reps; i++) for (const m of ['auto', 'off'] as const) {
      phaseTuning.mode = m;
      const c0 = process.cpuUsage(); const t0 = performance.now();
      fn();
      const dt = single ? (process.cpuUsage(c0).user + process.cpuUsage(c0).system) / 1000 : performance.now() - t0;
      if (i > 1) t[m].push(dt);
    }
    const med = (a: number[]) => a.sort((p, q) => p - q)[a.length >> 1]!;
    console.log(`${c.name} ${p}: phases ${med(t.auto).toFixed(2)} ms (min ${Math.min(...t.auto).toFixed(2)}) vs off ${med(t.off).toFixed(2)} (min ${Math.min(...t.off).toFixed(2)})  x${(med(t.off) / med(t.auto)).toFixed(2)}`);
  }
}
process.exit(0);
