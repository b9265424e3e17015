/**
 * Fused vs plain, inference (eval + noGrad): each model runs as ck.nn.optimizeForInference
 * plans it and as its own forward says (layer by layer), in the same process, alternating run
 * by run (the machine is noisy).
 *   vite-node bench/fusion.ts [--runs=30] [--only=lenet5,cifar_demo]
 * Never part of `npm test`.
 */
import * as ck from '../src/index.js';
import { median } from './kernel-inputs.js';
import { cifarDemo, lenet5, resnet18 } from './models.js';

const args = process.argv.slice(2);
const runs = Number(args.find((a) => a.startsWith('--runs='))?.split('=')[1] ?? 30);
const only = args.find((a) => a.startsWith('--only='))?.split('=')[1]?.split(',');

const cases = [
  { name: 'lenet5', make: lenet5, shape: [64, 1, 28, 28], runs },
  { name: 'cifar_demo', make: cifarDemo, shape: [64, 3, 32, 32], runs },
  { name: 'resnet18', make: resnet18, shape: [1, 3, 224, 224], runs: Math.max(5, Math.round(runs / 3)) },
].filter((c) => !only || only.includes(c.name));


console.log(`backend ${ck.getBackendName()}, median of N runs (ms), alternating fused / unfused`);
for (const c of cases) {
  const model = c.make().eval();
  const optimized = ck.nn.optimizeForInference(model);
  const x = ck.randn(c.shape, { seed: 1 });
  const time = (m: ck.nn.Module) => {
    const a = performance.now();
    ck.tidy(() => ck.noGrad(() => void m.forward(x).dataSync()));
    return performance.now() - a;
  };
  const once = () => time(optimized);
  const unfusedOnce = () => time(model);
  for (let i = 0; i < 3; i++) {
    once();
    unfusedOnce();
  }
  const fused: number[] = [];
  const unfused: number[] = [];
  for (let i = 0; i < c.runs; i++) {
    if (i % 2) {
      unfused.push(unfusedOnce());
      fused.push(once());
    } else {
      fused.push(once());
      unfused.push(unfusedOnce());
    }
  }
  const f = median(fused);
  const u = median(unfused);
  console.log(`${c.name.padEnd(11)} batch ${String(c.shape[0]).padStart(2)}  fused ${f.toFixed(2).padStart(8)}  unfused ${u.toFixed(2).padStart(8)}  speedup ${(u / f).toFixed(3)}x  (${c.runs} runs each)`);
}
