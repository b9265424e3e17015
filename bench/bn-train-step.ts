/**
 * A training step (forward, cross-entropy, backward, SGD with momentum) of the suite's BN
 * networks, A/B in one process: BN -> ReLU fused (as nn.Sequential runs it) against the same
 * model with a do-nothing forward hook on every BatchNorm (which runs it unfused, as before the
 * training-mode fusion), alternating. With --threads=1 (default) the wasm backend runs on the
 * calling thread alone and the figures are process CPU time (less hurt by a shared machine).
 *   vite-node bench/bn-train-step.ts [--runs=7] [--only=vgg_bn_cifar,bn_convnet] [--wall]
 * Never part of `npm test`.
 */
import * as ck from '../src/index.js';
import { median } from './kernel-inputs.js';
import { runtime } from '../src/backend/wasm/instance.js';
import { BUILDERS, WORKLOADS } from './models.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const runs = Number(opt('runs') ?? 7);
const only = (opt('only') ?? 'vgg_bn_cifar,bn_convnet').split(',');
const wall = args.includes('--wall');
if (!wall) runtime().singleThreaded = true;

const now = () => (wall ? performance.now() : (process.cpuUsage().user + process.cpuUsage().system) / 1000);

for (const name of only) {
  const w = WORKLOADS.find((x) => x.name === name);
  if (!w) throw new Error(`no workload ${name}`);
  const batch = w.runs.find((r) => r.kind === 'train')!.batch;
  ck.manualSeed(0);
  const model = BUILDERS[name]!();
  model.train();
  const opt = new ck.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const images = ck.randn([batch, ...w.input], { seed: 1 });
  const labels = ck.randint(0, w.classes, [batch], { seed: 2 });
  const step = () => ck.tidy(() => {
    const loss = ck.F.crossEntropy(model.forward(images), labels);
    loss.backward();
    opt.step();
    opt.zeroGrad();
  });
  const norms = model.modules().filter((m) => m instanceof ck.nn.BatchNorm2d);
  const unfused = () => {
    const hs = norms.map((m) => m.registerForwardHook(() => {}));
    try { step(); } finally { hs.forEach((h) => h.remove()); }
  };
  const time = (f: () => void) => { const t = now(); f(); return now() - t; };
  step(); unfused();
  const a: number[] = [], b: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2) { b.push(time(step)); a.push(time(unfused)); } else { a.push(time(unfused)); b.push(time(step)); }
  }
  const f = (v: number[]) => `${median(v).toFixed(1)} (min ${Math.min(...v).toFixed(1)})`;
  console.log(`${name} b${batch} ${wall ? 'wall' : '1 thread CPU'} ms/step: unfused ${f(a)}  fused ${f(b)}  ratio ${(median(a) / median(b)).toFixed(3)}`);
}
