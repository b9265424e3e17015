/**
 * End to end against torchvision (issue 19), run by `npm run test:torch` (scripts/torch/run-all.mjs)
 * through vite-node:
 *
 *   vite-node scripts/torch/check-torchvision.ts [architecture ...]
 *
 * For every architecture convkit maps (all of them by default): PyTorch writes seeded random
 * weights as .pth and .safetensors, a fixed 224x224 input and torchvision's eval-mode output
 * (scripts/torch/torchvision_outputs.py, into a temporary folder removed after each); convkit
 * builds the zoo model, loads each file with `loadStateDict(dict, { from: 'torchvision' })`,
 * and its output must match to 1e-4 of the output's scale (max |convkit - torch| / max |torch|).
 * Between the two files every weight is zeroed, so the second load is checked on its own.
 * Exits 1 when any architecture fails.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ck from '../../src/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env['CONVKIT_TORCH_PYTHON'] ?? '/usr/bin/python3';
const TOLERANCE = 1e-4;
/** Batch 2 where it is cheap (the batch dimension is checked too), 1 for the big VGGs and ResNet-50. */
const BATCH: Record<string, number> = { alexnet: 2, googlenet: 2, resnet18: 2, resnet34: 2 };

function floats(file: string): Float32Array {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale > 0 ? diff / scale : diff;
}

/** PyTorch's files for one architecture, in a fresh temporary folder; resolves to the exit status. */
function generate(arch: string): { dir: string; done: Promise<number | string>; started: number } {
  const dir = mkdtempSync(join(tmpdir(), `convkit-tv-${arch}-`));
  const child = spawn(PYTHON, [join(HERE, 'torchvision_outputs.py'), arch, dir, String(BATCH[arch] ?? 1)], { stdio: ['ignore', 'inherit', 'inherit'] });
  const done = new Promise<number | string>((resolve) => {
    child.on('error', (e) => resolve(e.message));
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'killed'));
  });
  return { dir, done, started: performance.now() };
}

async function check(arch: string, job: ReturnType<typeof generate>): Promise<boolean> {
  const { dir } = job;
  try {
    const status = await job.done;
    const t1 = performance.now();
    if (status !== 0) {
      console.log(`FAIL ${arch}: torchvision_outputs.py exited with ${status}`);
      return false;
    }
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { inputShape: number[]; outputShape: number[] };
    const x = new ck.Tensor(floats(join(dir, 'input.bin')), meta.inputShape);
    const want = floats(join(dir, 'output.bin'));
    const model = ck.models.createModel(ck.models.TORCHVISION_ZOO_NAMES[arch]!).eval();
    let ok = true;
    const parts: string[] = [`torch done ${((t1 - job.started) / 1000).toFixed(1)} s after its start`];
    for (const ext of ['pth', 'safetensors'] as const) {
      const file = join(dir, `weights.${ext}`);
      const t = performance.now();
      const state = ext === 'pth' ? await ck.io.loadTorch(file) : (await ck.io.loadSafetensors(file)).tensors;
      model.loadStateDict(state, { from: 'torchvision' });
      const y = ck.noGrad(() => model.forward(x));
      const got = y.dataSync();
      const shapeOk = y.shape.join() === meta.outputShape.join();
      const err = shapeOk ? relErr(got, want) : Infinity;
      y.dispose();
      ok &&= shapeOk && err <= TOLERANCE;
      parts.push(`.${ext}: ${shapeOk ? `rel err ${err.toExponential(2)}` : `shape [${y.shape}] != [${meta.outputShape}]`} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
      // Zero every weight, so that the next file's load is checked from scratch.
      for (const p of model.parameters()) p.storage.data.fill(0);
    }
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${arch}: ${parts.join(', ')}`);
    return ok;
  } catch (e) {
    console.log(`FAIL ${arch}: ${(e as Error).message}`);
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const requested = process.argv.slice(2);
const archs = requested.length ? requested : Object.keys(ck.models.TORCHVISION_ZOO_NAMES);
for (const a of archs) {
  if (!(a in ck.models.TORCHVISION_ZOO_NAMES)) {
    console.error(`unknown architecture '${a}'; torchvision's names: ${Object.keys(ck.models.TORCHVISION_ZOO_NAMES).join(', ')}`);
    process.exit(2);
  }
}
if (ck.listBackends().includes('wasm')) await ck.setBackend('wasm').catch(() => ck.setBackend('js'));
console.log(`torchvision end to end on the ${ck.getBackendName()} backend, tolerance ${TOLERANCE} of the output scale`);
let failed = 0;
// PyTorch writes the next architecture's files while convkit checks the current one (each
// side is mostly one thread), so at most two architectures' files exist at a time.
let next = generate(archs[0]!);
for (let i = 0; i < archs.length; i++) {
  const job = next;
  await job.done;
  if (i + 1 < archs.length) next = generate(archs[i + 1]!);
  if (!(await check(archs[i]!, job))) failed++;
}
console.log(failed ? `${failed} of ${archs.length} architectures FAILED` : `all ${archs.length} architectures match torchvision`);
process.exit(failed ? 1 : 0);
