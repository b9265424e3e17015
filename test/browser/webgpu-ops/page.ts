/// <reference types="@webgpu/types" />
/**
 * The page of test/browser/webgpu-ops.browser.ts (bundled by build.ts): every webgpu kernel
 * against the js reference kernel on this browser's WebGPU adapter. `run()` resolves to the
 * report, or to `{ skipped }` saying why there is no adapter.
 */
import type { KernelName, KernelSignatures } from '../../../src/backend/kernels.js';
import '../../../src/backend/js/register.js';
import { getBackend } from '../../../src/backend/registry.js';
import { kernels as gpuKernels } from '../../../src/backend/webgpu/backend.js';
import { gpu, startGpu as start } from '../../../src/backend/webgpu/device.js';
import { Runner, type OpsReport } from './runner.js';
import { elementwiseCases } from './cases-elementwise.js';
import { convCases } from './cases-conv.js';
import { poolNormCases } from './cases-pool-norm.js';
import { indexLossCases } from './cases-index-loss.js';
import { optimizerCases } from './cases-optim.js';

/** The kernel families, each a table of cases; `run` takes a subset by name (all by default). */
export const FAMILIES: Record<string, (r: Runner) => Promise<void>> = {
  elementwise: elementwiseCases,
  conv: convCases,
  'pool-norm': poolNormCases,
  'index-loss': indexLossCases,
  optim: optimizerCases,
};

/** The js backend's table: complete by its type, so its keys are every kernel of KernelSignatures. */
const reference = getBackend().kernels as KernelSignatures;

export interface OpsPage {
  kernelNames: KernelName[];
  run(families?: string[]): Promise<OpsReport | { skipped: string }>;
}

async function run(families = Object.keys(FAMILIES)): Promise<OpsReport | { skipped: string }> {
  const t0 = performance.now();
  try {
    await start();
  } catch (e) {
    return { skipped: e instanceof Error ? e.message : String(e) };
  }
  const r = new Runner(gpuKernels, reference);
  for (const f of families) {
    await FAMILIES[f]!(r);
    await r.flush();
  }
  return { adapter: gpu().adapterName, mismatches: r.mismatches, exercised: [...r.exercised].sort(), comparisons: r.comparisons, ms: Math.round(performance.now() - t0), slowest: r.slowest(8) };
}

(globalThis as { convkitWebgpuOps?: OpsPage }).convkitWebgpuOps = { kernelNames: Object.keys(reference).sort() as KernelName[], run };
