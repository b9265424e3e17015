import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gpuOnly, startWebgpu } from '../helpers/webgpu.js';
import { POINTWISE_OPS } from '../../src/ops/pointwise/all.js';
import { fixtureFamilies, fixtureTensor, loadFixtures, type FixtureAttrs, type FixtureCase, type FixtureTensor } from '../helpers/fixtures.js';

/**
 * Every op against PyTorch, forward and backward. The golden values come from
 * scripts/fixtures/make_torch_fixtures.py (torch autograd, float64 reference rounded to
 * float32); each case gives the inputs, convkit's options, the output, a random gradOutput and
 * the gradients of sum(output * gradOutput). A new op needs cases in the script and one row in
 * OPS below (a declared pointwise op has its row and its cases from its declaration).
 */

type Inputs = Record<string, ck.Tensor>;
// Ops differ in arity and option types; each row below calls its op the documented way.
type OpFn = (...args: unknown[]) => ck.Tensor;

interface OpRow {
  /** Where the function lives: `ck.F.<name>` or `ck.<name>`. */
  fn: string;
  where?: 'F' | 'ck';
  call: (f: OpFn, x: Inputs, a: FixtureAttrs) => ck.Tensor;
}

/** Optional tensor inputs become options or positional nulls. */
const opt = (t: ck.Tensor | undefined): ck.Tensor | null => t ?? null;
/** The attrs without the keys that are passed positionally. */
function rest(a: FixtureAttrs, ...positional: string[]): FixtureAttrs {
  return Object.fromEntries(Object.entries(a).filter(([k]) => !positional.includes(k)));
}
/** Weight/bias-like tensor inputs that convkit takes in the options object. */
function tensorOpts(x: Inputs, ...names: string[]): Record<string, ck.Tensor> {
  return Object.fromEntries(names.filter((n) => x[n] !== undefined).map((n) => [n, x[n]!]));
}

const conv = (fn: string): OpRow => ({ fn, call: (f, x, a) => f(x.x, x.weight, opt(x.bias), a) });
const unary = (fn: string): OpRow => ({ fn, call: (f, x, a) => f(x.x, a) });
const binary = (fn: string): OpRow => ({ fn, call: (f, x) => f(x.a, x.b) });
const reduce = (fn: string): OpRow => ({ fn, call: (f, x, a) => f(x.x, a.dim, rest(a, 'dim')) });
const softmaxLike = (fn: string): OpRow => ({ fn, call: (f, x, a) => f(x.x, a.dim) });
const pool = (fn: string): OpRow => ({ fn, call: (f, x, a) => f(x.x, a.kernelSize, rest(a, 'kernelSize')) });
const adaptive = (fn: string): OpRow => ({ fn, call: (f, x, a) => f(x.x, a.outputSize) });
const classLoss = (fn: string): OpRow => ({ fn, call: (f, x, a) => f(x.x, x.target, { ...a, ...tensorOpts(x, 'weight') }) });

/** Fixture op name -> how convkit is called. */
const OPS: Record<string, OpRow> = {
  conv2d: conv('conv2d'),
  convTranspose2d: conv('convTranspose2d'),
  locallyConnected2d: conv('locallyConnected2d'),
  pad: { fn: 'pad', call: (f, x, a) => f(x.x, a.pad, rest(a, 'pad')) },
  maxPool2d: pool('maxPool2d'),
  avgPool2d: pool('avgPool2d'),
  lpPool2d: { fn: 'lpPool2d', call: (f, x, a) => f(x.x, a.normType, a.kernelSize, rest(a, 'normType', 'kernelSize')) },
  adaptiveAvgPool2d: adaptive('adaptiveAvgPool2d'),
  adaptiveMaxPool2d: adaptive('adaptiveMaxPool2d'),
  localResponseNorm: { fn: 'localResponseNorm', call: (f, x, a) => f(x.x, a.size, rest(a, 'size')) },
  batchNorm: {
    fn: 'batchNorm',
    call: (f, x, a) => f(x.x, opt(x.runningMean), opt(x.runningVar), { ...a, ...tensorOpts(x, 'weight', 'bias') }),
  },
  instanceNorm: { fn: 'instanceNorm', call: (f, x, a) => f(x.x, { ...a, ...tensorOpts(x, 'weight', 'bias') }) },
  relu: unary('relu'),
  // leakyRelu, elu, ...: every declared pointwise op (src/ops/pointwise/table.ts)
  ...Object.fromEntries(POINTWISE_OPS.map((d) => [d.name, unary(d.name)])),
  softplus: unary('softplus'),
  hardtanh: unary('hardtanh'),
  dropout: unary('dropout'),
  prelu: { fn: 'prelu', call: (f, x) => f(x.x, x.weight) },
  softmax: softmaxLike('softmax'),
  logSoftmax: softmaxLike('logSoftmax'),
  linear: { fn: 'linear', call: (f, x) => f(x.x, x.weight, opt(x.bias)) },
  matmul: { fn: 'matmul', where: 'ck', call: (f, x) => f(x.a, x.b) },
  flatten: unary('flatten'),
  cat: { fn: 'cat', where: 'ck', call: (f, x, a) => f(Object.values(x), a.dim) },
  add: binary('add'),
  sub: binary('sub'),
  mul: binary('mul'),
  div: binary('div'),
  sum: reduce('sum'),
  mean: reduce('mean'),
  crossEntropy: classLoss('crossEntropy'),
  nllLoss: classLoss('nllLoss'),
  multiMarginLoss: classLoss('multiMarginLoss'),
  mseLoss: { fn: 'mseLoss', call: (f, x, a) => f(x.x, x.target, a) },
};

/**
 * Cases that need more than rtol 1e-4 / atol 1e-5, with the reason. Keep these few and within 1e-3.
 */
const SLACK: Record<string, { rtol?: number; atol?: number; why: string }> = {};

/**
 * Fixture ops (or single cases, by name) that do not run on webgpu yet, with the reason (e.g.
 * a backward that reads a GPU tensor's values on the host). Their cases must fail there
 * (it.fails): one that passes means the entry is stale and must go; a case not listed must pass.
 */
const WEBGPU_PENDING: Record<string, string> = {};

function resolve(row: OpRow): OpFn | undefined {
  const table = (row.where === 'ck' ? ck : ck.F) as unknown as Record<string, unknown>;
  const f = table[row.fn];
  return typeof f === 'function' ? (f as OpFn) : undefined;
}

/** Where a case's tensors live before the op runs (the host, or the GPU only for webgpu). */
type Place = (t: ck.Tensor) => ck.Tensor;

/**
 * Runs one case on the current backend and compares with PyTorch. Values are read with
 * `await t.data()`, which works on every backend (webgpu keeps them on the GPU), so the host
 * backends and webgpu share this comparison and its tolerances.
 */
async function runCase(c: FixtureCase, row: OpRow, f: OpFn, place: Place = (t) => t): Promise<void> {
  const tol = { rtol: SLACK[c.name]?.rtol ?? 1e-4, atol: SLACK[c.name]?.atol ?? 1e-5 };
  const compare = async (got: ck.Tensor, want: FixtureTensor, what: string): Promise<void> => {
    expect(got.shape, `${what} shape`).toEqual(want.shape);
    expectClose(await got.data(), (want.dtype === 'int32' ? Int32Array : Float32Array).from(want.data), { ...tol, what });
  };
  const inputs: Inputs = {};
  for (const [k, t] of Object.entries(c.inputs)) inputs[k] = place(fixtureTensor(t, { requiresGrad: k in c.grads }));

  const y = row.call(f, inputs, c.attrs);
  // Backward first: reading y would give it a host copy, which would hide a backward that
  // reads it synchronously (on webgpu only `await t.data()` may read values).
  if (Object.keys(c.grads).length > 0) y.backward(place(fixtureTensor(c.gradOutput)));
  await compare(y, c.output, `${c.name} output`);
  // Side outputs (batchNorm's running statistics) are the inputs, updated in place.
  for (const [k, t] of Object.entries(c.extraOutputs ?? {})) {
    expect(inputs[k], `${c.name}: extra output ${k} is not an input`).toBeDefined();
    await compare(inputs[k]!, t, `${c.name} updated ${k}`);
  }
  for (const [k, t] of Object.entries(c.grads)) {
    // A missing gradient is only right where PyTorch's is all zeros.
    await compare(inputs[k]!.grad ?? ck.zeros(t.shape), t, `${c.name} grad ${k}`);
  }
}

const files = fixtureFamilies().map(loadFixtures);

/** The table's cases with the function each calls, or why it is skipped. */
const CASES = files.flatMap((file) =>
  file.cases.map((c) => {
    const row = OPS[c.op];
    const f = row && resolve(row);
    const title = `${file.family}/${c.name} (torch ${file.torchVersion})`;
    const missing = row && f ? null : `${row?.where === 'ck' ? 'ck' : 'ck.F'}.${row?.fn ?? c.op} is missing`;
    return { c, row, f, title, missing };
  }),
);

describeEachBackend('PyTorch fixtures', () => {
  it('fixture files are present and cover every op in the table', () => {
    expect(files.length).toBeGreaterThan(0);
    const ops = new Set(files.flatMap((f) => f.cases.map((c) => c.op)));
    for (const op of ops) expect(OPS[op], `no row in OPS for fixture op '${op}'`).toBeDefined();
    // A declared op without cases: run /usr/bin/python3 scripts/fixtures/make_torch_fixtures.py pointwise
    for (const d of POINTWISE_OPS) expect(ops.has(d.name), `no PyTorch fixture for the declared op '${d.name}'`).toBe(true);
  });

  for (const { c, row, f, title, missing } of CASES) {
    if (!row || !f) {
      it.skip(`${title}: skipped, ${missing}`, () => {});
      continue;
    }
    it(title, () => runCase(c, row, f));
  }
});

/**
 * The same cases and tolerances on webgpu (a software adapter where the machine has no GPU).
 * Ops that cannot run there yet are listed in WEBGPU_PENDING with the reason; each of their
 * cases is expected to fail, so an entry that starts passing fails the suite and is removed.
 */
const why = await startWebgpu();

/**
 * Float inputs and gradOutput go to the GPU only, as activations and parameters are there in
 * training; int32 class targets stay on the host, where a data loader gives them and where a
 * loss checks their range.
 */
const onWebgpu: Place = (t) => (t.dtype === 'float32' ? gpuOnly(t) : t);

describe.skipIf(why !== null)('PyTorch fixtures [webgpu]', () => {
  let previous = 'js';
  beforeAll(async () => {
    previous = ck.getBackendName();
    await ck.setBackend('webgpu');
  });
  afterAll(() => ck.setBackendSync(previous));

  it('every WEBGPU_PENDING entry names a fixture op or case', () => {
    const names = new Set(files.flatMap((f) => f.cases.flatMap((c) => [c.op, c.name])));
    for (const k of Object.keys(WEBGPU_PENDING)) expect(names.has(k), `WEBGPU_PENDING entry '${k}' matches no fixture`).toBe(true);
  });

  for (const { c, row, f, title, missing } of CASES) {
    if (!row || !f) {
      it.skip(`${title}: skipped, ${missing}`, () => {});
      continue;
    }
    const pending = WEBGPU_PENDING[c.name] ?? WEBGPU_PENDING[c.op];
    const run = () => runCase(c, row, f, onWebgpu);
    if (pending) it.fails(`${title}: not yet on webgpu (${pending})`, run);
    else it(title, run);
  }
});
