/**
 * convkit's side of the WebGPU bench (bench/webgpu.ts): the workloads of
 * bench/webgpu-workloads.json and the GPU timing rule, shared in spirit with
 * bench/peers/tfjs-webgpu.mjs. GPU work is asynchronous, so a step's time means nothing alone:
 * steps are issued in batches and each batch ends by reading its last result back (`await
 * t.data()`), which waits for every step of it. Throughput is images (or FLOPs) over the wall
 * time of all batches; the "median step" is the median over batches of the batch time divided
 * by its steps.
 */
import { readFileSync } from 'node:fs';
import * as ck from '../src/node.js';
import { BUILDERS } from './models.js';
import { median, type Measurement } from './timing.js';

export type GpuKind = 'gemm' | 'conv' | 'infer' | 'train';

export interface GpuWorkload {
  name: string;
  kind: GpuKind;
  about: string;
  n?: number;
  cin?: number;
  cout?: number;
  k?: number;
  hw?: number;
  model?: string;
  input?: [number, number, number];
  classes?: number;
  batches?: number[];
  /** Why a run is left out (of --quick). */
  note?: string;
  quick?: Partial<GpuWorkload>;
}

/** The suite, with `quick`'s fields applied when asked. */
export function gpuWorkloads(quick: boolean): GpuWorkload[] {
  const file = new URL('./webgpu-workloads.json', import.meta.url);
  const all = (JSON.parse(readFileSync(file, 'utf8')) as { workloads: GpuWorkload[] }).workloads;
  return all.map((w) => (quick && w.quick ? { ...w, ...w.quick } : w));
}

/** The runs of a workload: its batches (a GEMM has one run, "batch" 1). */
export const runsOf = (w: GpuWorkload): number[] => (w.kind === 'gemm' ? [1] : w.batches ?? [1]);

export interface GpuTiming {
  /** Seconds of measurement (0: just minSteps). */
  secs: number;
  warmupS: number;
  minSteps: number;
}

export interface GpuResult extends Measurement {
  system: string;
  workload: string;
  kind: GpuKind;
  batch: number;
  /** The size that ran: n of the GEMM, H x W of the image (--quick shrinks them). */
  size?: string;
  /** GFLOP/s over the wall time, for the GEMM and the CONV layer; null for networks. */
  gflops: number | null;
}

/**
 * Times `step` (which issues one step and returns a tensor of it) by the rule above. Batches are
 * sized from the last warm-up step to last about a quarter of a second (or secs / 4), so the
 * read-back at each batch's end costs little of the wall time.
 */
export async function measureGpu(step: () => ck.Tensor, items: number, t: GpuTiming): Promise<Measurement> {
  let last = null as ck.Tensor | null;
  const run = (): ck.Tensor => {
    const out = step();
    last?.dispose();
    return (last = out);
  };
  let t0 = performance.now();
  let one = 0;
  for (let n = 0; n < 1 || performance.now() - t0 < t.warmupS * 1000; n++) {
    const s = performance.now();
    await run().data();
    one = performance.now() - s;
  }
  const perBatch = Math.max(1, Math.min(64, Math.round((Math.min(250, (t.secs * 1000) / 4)) / Math.max(one, 1e-3))));
  const perStep: number[] = [];
  let steps = 0;
  t0 = performance.now();
  let now = t0;
  while (now - t0 < t.secs * 1000 || steps < t.minSteps) {
    for (let i = 0; i < perBatch; i++) run();
    await last!.data();
    const end = performance.now();
    perStep.push((end - now) / perBatch);
    steps += perBatch;
    now = end;
  }
  last?.dispose();
  const wallS = (now - t0) / 1000;
  return { imagesPerS: (steps * items) / wallS, medianMs: median(perStep), minMs: Math.min(...perStep), steps, wallS };
}

/** Frees a model's weights (VGG-16's are 553 MB) before the next workload. */
function free(model: ck.nn.Module): void {
  for (const v of model.stateDict().values()) v.dispose();
}

/** One run of one workload on the current backend (webgpu). */
export async function runGpuWorkload(w: GpuWorkload, batch: number, t: GpuTiming): Promise<GpuResult> {
  const size = w.kind === 'gemm' ? `n=${w.n}` : w.kind === 'conv' ? `${w.hw}x${w.hw}` : `${w.input?.[1]}x${w.input?.[2]}`;
  const base = { system: 'convkit', workload: w.name, kind: w.kind, batch, size };
  if (w.kind === 'gemm') {
    const n = w.n!;
    const a = ck.randn([n, n], { seed: 1 });
    const b = ck.randn([n, n], { seed: 2 });
    const m = await measureGpu(() => ck.matmul(a, b), 1, t);
    a.dispose();
    b.dispose();
    return { ...base, ...m, gflops: (2 * n ** 3 * m.imagesPerS) / 1e9 };
  }
  if (w.kind === 'conv') {
    const { cin, cout, k, hw } = w as Required<GpuWorkload>;
    const conv = new ck.nn.Conv2d(cin, cout, k, { padding: k >> 1 });
    const x = ck.randn([batch, cin, hw, hw], { seed: 1 });
    const m = await measureGpu(() => ck.noGrad(() => conv.forward(x)), batch, t);
    x.dispose();
    free(conv);
    return { ...base, ...m, gflops: (2 * cout * hw * hw * cin * k * k * m.imagesPerS) / 1e9 };
  }
  const make = BUILDERS[w.model ?? w.name];
  if (!make || !w.input) throw new ck.ConvkitError(`webgpu bench: workload ${w.name} names no network of bench/models.ts`);
  const model = make();
  const x = ck.randn([batch, ...w.input], { seed: 1 });
  let m: Measurement;
  try {
    if (w.kind === 'infer') {
      const runner = ck.nn.optimizeForInference(model);
      m = await measureGpu(() => ck.tidy(() => ck.noGrad(() => runner.forward(x))), batch, t);
    } else {
      model.train();
      const y = ck.randint(0, w.classes ?? 10, [batch], { seed: 3 });
      const opt = new ck.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
      // A step reads nothing back; the batch's last loss is what measureGpu waits for.
      m = await measureGpu(() => ck.tidy(() => {
        opt.zeroGrad();
        const loss = ck.F.crossEntropy(model.forward(x), y);
        loss.backward();
        opt.step();
        return loss;
      }), batch, t);
      y.dispose();
    }
  } finally {
    x.dispose();
    free(model);
  }
  return { ...base, ...m, gflops: null };
}
