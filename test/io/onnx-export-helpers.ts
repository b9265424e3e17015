import { createRequire } from 'node:module';
import { expect } from 'vitest';
import * as ck from '../../src/index.js';

/**
 * onnxruntime-node (a dev dependency, the peer that checks convkit's ONNX files) and the
 * comparison every export test uses: rtol 1e-4, atol 1e-5 times the output's scale.
 */

type Ort = typeof import('onnxruntime-node');

let ort: Ort | null | undefined;

/** onnxruntime-node, or null when it cannot load on this machine. */
export function loadOrt(): Ort | null {
  if (ort === undefined) {
    try {
      ort = createRequire(import.meta.url)('onnxruntime-node') as Ort;
    } catch {
      ort = null;
    }
  }
  return ort;
}

export interface OrtResult {
  data: Float32Array;
  dims: number[];
}

/**
 * Runs an ONNX file with onnxruntime on float inputs, given in graph input order or by name;
 * returns every output (integer outputs as numbers too).
 */
export async function runOrt(bytes: Uint8Array, inputs: readonly ck.Tensor[] | Record<string, ck.Tensor>): Promise<OrtResult[]> {
  const rt = loadOrt();
  if (!rt) throw new Error('onnxruntime-node is not available');
  const session = await rt.InferenceSession.create(bytes);
  try {
    const named = Array.isArray(inputs) ? Object.fromEntries(session.inputNames.slice(0, inputs.length).map((n, i) => [n, inputs[i]!])) : inputs;
    const feeds: Record<string, InstanceType<Ort['Tensor']>> = {};
    for (const [name, x] of Object.entries(named as Record<string, ck.Tensor>)) feeds[name] = new rt.Tensor('float32', x.dataSync(), [...x.shape]);
    const out = await session.run(feeds);
    return session.outputNames.map((name) => {
      const d = out[name]!.data;
      const data = d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number | bigint>, Number);
      return { data, dims: [...out[name]!.dims] };
    });
  } finally {
    await session.release();
  }
}

/** The largest |a - b| and the scale of b. */
export function diff(a: ArrayLike<number>, b: ArrayLike<number>): { maxAbs: number; scale: number } {
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { maxAbs, scale };
}

/** |actual - expected| <= 1e-5 * max(1, scale) + 1e-4 * |expected| everywhere (NaN only where expected is NaN). */
export function expectAgrees(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol = { rtol: 1e-4, atol: 1e-5 }): number {
  expect(actual.length, `${what}: number of values`).toBe(expected.length);
  const { scale } = diff(actual, expected);
  const floor = tol.atol * Math.max(1, scale);
  let worst = 0;
  let bad = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (!(Number.isNaN(e) && Number.isNaN(a)) && bad < 0) bad = i;
      continue;
    }
    const d = Math.abs(a - e);
    worst = Math.max(worst, d);
    if (d > floor + tol.rtol * Math.abs(e) && bad < 0) bad = i;
  }
  if (bad >= 0) {
    expect.fail(`${what}: value ${bad} is ${actual[bad]}, expected ${expected[bad]} (max abs diff ${worst}, output scale ${scale})`);
  }
  return worst;
}

/** Selects the wasm backend where it is available (much faster on the big models), else js. */
export async function useFastBackend(): Promise<string> {
  if (ck.listBackends().includes('wasm')) {
    try {
      await ck.setBackend('wasm');
      return 'wasm';
    } catch {
      // Not built here: the js reference backend computes the same thing, slower.
    }
  }
  await ck.setBackend('js');
  return 'js';
}

/**
 * Exports `model`, runs the file with onnxruntime and re-imports it with ck.io.loadOnnxBytes;
 * both must agree with convkit's own forward pass on `x`. Returns the largest differences.
 */
export async function checkExport(
  model: ck.nn.Module,
  x: ck.Tensor,
  opts: ck.io.ExportOnnxOptions,
  what: string,
): Promise<{ ort: number; reimport: number; bytes: Uint8Array }> {
  model.eval();
  const want = ck.noGrad(() => model.forward(x));
  const bytes = ck.io.exportOnnx(model, opts);
  const [got] = await runOrt(bytes, [x]);
  expect(got!.dims, `${what}: onnxruntime output shape`).toEqual([...want.shape]);
  const wantData = want.dataSync();
  const ortDiff = expectAgrees(got!.data, wantData, `${what} (onnxruntime)`);
  const back = ck.io.loadOnnxBytes(bytes, { name: what });
  const again = ck.noGrad(() => back.forward(x));
  expect(again.shape, `${what}: re-imported output shape`).toEqual([...want.shape]);
  const reimport = expectAgrees(again.dataSync(), wantData, `${what} (re-imported)`);
  return { ort: ortDiff, reimport, bytes };
}

/** The zoo's entries, each once (kebab-case aliases of the same function dropped). */
export function zooEntries(): string[] {
  const seen = new Set<unknown>();
  return Object.entries(ck.models.zoo)
    .filter(([, make]) => !seen.has(make) && (seen.add(make), true))
    .map(([name]) => name);
}

/**
 * The smallest of a few input sizes that the entry's architecture accepts (checked on its
 * description, without building weights), with 10 classes: the same layers and dataflow as
 * the full-size model at a fraction of the cost.
 */
export function reducedZooOptions(name: string): ck.models.ZooOptions {
  for (const inputSize of [28, 32, 48, 64, 67, 99, 131, 163, 195, 227]) {
    const opts = { inputSize, numClasses: 10 };
    try {
      ck.analysis.traceConfig(ck.models.zooConfig(name, opts), ck.models.zooInputShape(name, opts));
      return opts;
    } catch {
      // too small for this architecture's strides: try the next size
    }
  }
  return {};
}

export const SLOW_TESTS = process.env['CONVKIT_SLOW_TESTS'] === '1';

/**
 * One zoo entry: build it (seeded), export it, run the file with onnxruntime on a seeded
 * random batch of 2 and re-import it; everything must agree with convkit's forward pass.
 */
export async function checkZooEntry(name: string, opts: ck.models.ZooOptions, reimport: boolean): Promise<{ ort: number; reimport: number | null; scale: number }> {
  ck.manualSeed(2024);
  const model = ck.models.createModel(name, opts).eval();
  const shape = ck.models.zooInputShape(name, opts);
  const x = ck.randn([2, ...shape], { seed: 7 });
  const want = ck.noGrad(() => model.forward(x));
  const bytes = ck.io.exportOnnx(model, { inputShape: shape });
  const [got] = await runOrt(bytes, [x]);
  expect(got!.dims).toEqual([...want.shape]);
  const wantData = want.dataSync();
  const ortDiff = expectAgrees(got!.data, wantData, `${name} (onnxruntime)`);
  let back: number | null = null;
  if (reimport) {
    const again = ck.noGrad(() => ck.io.loadOnnxBytes(bytes, { name }).forward(x));
    back = expectAgrees(again.dataSync(), wantData, `${name} (re-imported)`);
  }
  return { ort: ortDiff, reimport: back, scale: diff(wantData, wantData).scale };
}
