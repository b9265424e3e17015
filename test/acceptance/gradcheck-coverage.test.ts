import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { POINTWISE_OPS } from '../../src/ops/pointwise/all.js';

/**
 * Issue #2 acceptance: "finite-difference gradient checks pass for every op". This meta-test
 * reads every test file as text and requires each differentiable export of ck.F (and each
 * differentiable Tensor method) to be referenced near a gradcheck call, so that a new op
 * without a gradient check fails here, in one place, instead of going unnoticed.
 *
 * "Near" is: a line calling gradcheck, and a reference `F.op` / `ck.op` (or `.method(` for
 * Tensor methods) within WINDOW lines of it. That covers the two styles the op tests use: the
 * op inside the gradcheck call, and a table of ops a few lines above an it.each that
 * gradchecks each row. Ops no op test gradchecks are checked at the end of this file.
 */

const TEST_ROOT = fileURLToPath(new URL('..', import.meta.url));
const WINDOW = 15;
// Written as a regex so that this file's own source does not count as a call.
const CALL = /\bgradcheck\s*\(/;

/** Exports of ck.F with no gradient to check, each with the reason. */
const NOT_DIFFERENTIABLE: Record<string, string> = {
  argmax: 'returns int32 indices: piecewise constant, no gradient (topk, which also returns values, is checked)',
};

/** Exports that are the very same function as another export (checked by identity below). */
const ALIASES: Record<string, string> = {
  concat: 'cat',
};

/**
 * The declared pointwise ops (src/ops/pointwise/table.ts) are gradchecked row by row from the
 * table in this file, which must hold a gradcheck call (checked below).
 */
const DECLARED_FILE = 'ops/pointwise.test.ts';
const DECLARED = new Set(POINTWISE_OPS.map((d) => d.name));

/** Differentiable Tensor methods: views and copies that the autograd graph goes through. */
const TENSOR_METHODS = ['view', 'reshape', 'permute', 'transpose', 'contiguous', 'clone'];

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'fixtures' || name === 'helpers' ? [] : testFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The test files (relative paths) where `ref` occurs within WINDOW lines of a gradcheck call. */
function filesGradchecking(ref: RegExp, sources: Map<string, string[]>): string[] {
  const found: string[] = [];
  for (const [file, lines] of sources) {
    const calls = lines.flatMap((l, i) => (CALL.test(l) ? [i] : []));
    if (calls.length === 0) continue;
    const hit = lines.some((l, i) => ref.test(l) && calls.some((c) => Math.abs(c - i) <= WINDOW));
    if (hit) found.push(file);
  }
  return found;
}

describe('every differentiable op is gradchecked somewhere in test/', () => {
  const sources = new Map(testFiles(TEST_ROOT).map((f) => [relative(TEST_ROOT, f), readFileSync(f, 'utf8').split('\n')] as const));
  // Function exports only: ck.F also re-exports types, which do not exist at run time.
  const ops = Object.keys(ck.F).filter((k) => typeof (ck.F as Record<string, unknown>)[k] === 'function');

  it('finds the test files and the ops (the scan is not vacuous)', () => {
    expect(sources.size).toBeGreaterThan(20);
    expect(ops.length).toBeGreaterThan(40);
    expect(ops).toContain('conv2d');
  });

  it('the detector itself: a reference near a call counts, far away or without a call does not', () => {
    const far = Array.from({ length: WINDOW + 1 }, () => '');
    const fake = new Map<string, string[]>([
      ['near.test.ts', ['const t = [F.elu];', 'it.each(t)(() => gradcheck(f, [x]));']],
      ['far.test.ts', ['F.selu(x);', ...far, 'gradcheck((t) => F.relu(t), [x]);']],
      ['none.test.ts', ['expect(F.selu(x).shape).toEqual([2]);']],
    ]);
    expect(filesGradchecking(/\bF\.elu\b/, fake)).toEqual(['near.test.ts']);
    expect(filesGradchecking(/\bF\.relu\b/, fake)).toEqual(['far.test.ts']);
    expect(filesGradchecking(/\bF\.selu\b/, fake)).toEqual([]);
  });

  it('the exclusion lists name real exports, and aliases are the same function', () => {
    for (const name of [...Object.keys(NOT_DIFFERENTIABLE), ...Object.keys(ALIASES)]) expect(ops, name).toContain(name);
    const F = ck.F as Record<string, unknown>;
    for (const [alias, target] of Object.entries(ALIASES)) expect(F[alias], `${alias} is ${target}`).toBe(F[target]);
  });

  it('each differentiable export of ck.F is referenced next to a gradcheck call', () => {
    const coverage: Record<string, string[]> = {};
    const missing: string[] = [];
    for (const op of ops) {
      if (op in NOT_DIFFERENTIABLE || op in ALIASES) continue;
      if (DECLARED.has(op)) {
        coverage[op] = filesGradchecking(/\bPOINTWISE_OPS\b|\bpointwiseFn\(/, sources).filter((f) => f === DECLARED_FILE);
        if (coverage[op]!.length === 0) missing.push(op);
        continue;
      }
      // F.op or ck.op (tensor-level ops such as ck.cat, ck.clamp, ck.matmul, ck.topk).
      const files = filesGradchecking(new RegExp(`\\b(?:F|ck)\\.${escape(op)}\\b`), sources);
      coverage[op] = files;
      if (files.length === 0) missing.push(op);
    }
    console.log(`gradcheck coverage: ${Object.keys(coverage).length - missing.length}/${Object.keys(coverage).length} differentiable F ops`);
    expect(missing, `ops of ck.F with no gradcheck in test/ (add one, or list the op in NOT_DIFFERENTIABLE with a reason)`).toEqual([]);
  });

  it('each differentiable Tensor method is referenced next to a gradcheck call', () => {
    const missing = TENSOR_METHODS.filter((m) => filesGradchecking(new RegExp(`\\.${m}\\(`), sources).length === 0);
    expect(missing).toEqual([]);
  });
});

/**
 * Gradchecks for the ops that their own test files do not gradcheck (found by the scan above
 * when this file was written); they count toward the coverage above like any other test.
 */
describe('gradchecks no op test file had', () => {
  const { F } = ck;

  it('amin: the gradient goes to the minimum (distinct values, so no ties)', () => {
    const x = ck.tensor(Array.from({ length: 24 }, (_, i) => ((i * 7) % 24) * 0.37 - 4), [2, 3, 4], { requiresGrad: true });
    gradcheck((t) => F.amin(t, 1), [x]);
    gradcheck((t) => F.amin(t, [0, 2], { keepdim: true }), [x]);
    gradcheck((t) => F.amin(t), [x]);
  });

  it('globalAvgPool2d and globalMaxPool2d', () => {
    const x = ck.tensor(Array.from({ length: 2 * 3 * 3 * 4 }, (_, i) => ((i * 11) % 72) * 0.13 - 4), [2, 3, 3, 4], { requiresGrad: true });
    gradcheck((t) => F.globalAvgPool2d(t), [x]);
    gradcheck((t) => F.globalMaxPool2d(t), [x]);
  });

  it('clone passes the gradient through unchanged', () => {
    const x = ck.randn([3, 4], { seed: 5, requiresGrad: true });
    gradcheck((t) => F.mul(t.transpose(0, 1).clone(), t.transpose(0, 1)), [x]);
  });
});
