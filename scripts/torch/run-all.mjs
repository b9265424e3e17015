#!/usr/bin/env node
/**
 * `npm run test:torch`: the checks against PyTorch itself (not part of `npm test`, which reads
 * only committed fixtures). Each step is one command run from the repository root; add a step
 * to STEPS for a new check. Needs Debian's python3-torch and python3-torchvision for
 * /usr/bin/python3 (or CONVKIT_TORCH_PYTHON): without them it says so and exits 0, except under
 * CI (CI or CONVKIT_REQUIRE_TORCH set), where a missing PyTorch is a failure.
 *
 *   node scripts/torch/run-all.mjs [step-name ...]
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PYTHON = process.env.CONVKIT_TORCH_PYTHON ?? '/usr/bin/python3';
const VITE_NODE = join(ROOT, 'node_modules', '.bin', 'vite-node');

/** { name, what, command: [program, ...args] } */
const STEPS = [
  {
    name: 'torchvision',
    what: "every torchvision architecture convkit maps, seeded weights from .pth and .safetensors, output vs torchvision's to 1e-4",
    command: [VITE_NODE, 'scripts/torch/check-torchvision.ts'],
  },
  {
    name: 'export',
    what: "convkit export --format pytorch: every zoo model's model.py + weights vs convkit to 1e-5, torchrun DDP (2 processes, gloo) in sync, trained weights back in convkit",
    command: [VITE_NODE, 'scripts/torch/check-export.ts'],
  },
  {
    name: 'safetensors',
    what: 'safetensors PyTorch -> convkit -> PyTorch and convkit -> PyTorch bit for bit; ck.io.loadTorch on torchvision state dicts (zip and legacy formats)',
    command: [PYTHON, 'scripts/torch/check_safetensors_roundtrip.py'],
  },
];

function torchAvailable() {
  const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { stdio: 'ignore' });
  return r.status === 0;
}

const required = Boolean(process.env.CI || process.env.CONVKIT_REQUIRE_TORCH);
if (!torchAvailable()) {
  const msg = `${PYTHON} cannot import torch and torchvision (apt-get install python3-torch python3-torchvision)`;
  if (required) {
    console.error(`test:torch: ${msg}; CI requires them`);
    process.exit(1);
  }
  console.log(`test:torch: skipped: ${msg}`);
  process.exit(0);
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !STEPS.some((s) => s.name === w));
if (unknown.length) {
  console.error(`test:torch: unknown step ${unknown.join(', ')}; the steps: ${STEPS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const failed = [];
const start = Date.now();
for (const step of STEPS.filter((s) => !wanted.length || wanted.includes(s.name))) {
  console.log(`\n== ${step.name}: ${step.what}`);
  const t = Date.now();
  const [program, ...args] = step.command;
  const r = spawnSync(program, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, CONVKIT_TORCH_PYTHON: PYTHON } });
  const ok = r.status === 0;
  console.log(`== ${step.name}: ${ok ? 'passed' : `FAILED (${r.status ?? r.signal})`} in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  if (!ok) failed.push(step.name);
}
console.log(`\ntest:torch: ${failed.length ? `FAILED: ${failed.join(', ')}` : 'all steps passed'} (${((Date.now() - start) / 1000).toFixed(0)} s)`);
process.exit(failed.length ? 1 : 0);
