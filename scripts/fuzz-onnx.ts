/**
 * Fuzzes the ONNX importer: valid model files are mutated (bit flips, byte insertions and
 * deletions, truncation, runs of 0xff that make huge varint lengths, repeated chunks, and
 * structured edits: sizes set to 2^40, negative or zero, attributes made huge or negative,
 * repeated fields grown to 100,000 entries (1,000 copies of a node), op types swapped, nodes dropped) and each result
 * is loaded with ck.io.loadOnnxBytes and, when it loads, run on a small input. Every failure
 * must be a ConvkitError; anything else, or a case taking over 1 s, is reported. `npm run fuzz`
 * runs the cases in a child process, so that a case that hangs is killed after --hang-ms and
 * reported rather than stalling the run; each case draws from its own generator, so any case
 * can be rerun alone.
 *
 *   npm run fuzz                         # 10,000 cases, seed 1, the default backend
 *   CONVKIT_BACKEND=js npm run fuzz -- --cases 50000 --seed 7 --out fuzz-failures
 *
 * test/io/onnx-fuzz.test.ts runs a short smoke run of the same engine inside npm test.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ck from '../src/index.js';
import { runChildCases } from './lib/fuzz-children.js';
import { decodeModel, encodeModel, type ModelProto } from '../src/io/onnx/proto.js';

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** Report a case slower than this (ms). */
  slowMs?: number;
  /** Stop early once this much time (ms) has passed (the smoke run's time box). */
  budgetMs?: number;
  /** Where to write the bytes of failing cases (none if unset). */
  outDir?: string;
  /** The valid files to mutate (default: seedFiles()). */
  seeds?: { name: string; bytes: Uint8Array }[];
}

export interface FuzzFailure {
  index: number;
  seedFile: string;
  mutation: string;
  error: string;
  ms: number;
}

export interface FuzzReport {
  cases: number;
  ms: number;
  loaded: number;
  ran: number;
  convkitErrors: number;
  failures: FuzzFailure[];
  slow: FuzzFailure[];
  slowestMs: number;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAX_ELEMENTS = 2 ** 22;

/** Valid model files: the importer's fixtures, the shared ONNX backend tests, and exports of convkit's own layers. */
export function seedFiles(): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  // The ONNX backend test data where tests find it (test/io/onnx-helpers.ts): skipped when absent.
  const conformance = process.env['CONVKIT_ONNX_CONFORMANCE'] ?? join(ROOT, 'test/fixtures/onnx-conformance');
  const dirs = [join(ROOT, 'test/fixtures/onnx'), join(conformance, 'pytorch-converted'), join(conformance, 'pytorch-operator')];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const d of readdirSync(dir).sort()) {
      const f = join(dir, d, 'model.onnx');
      if (existsSync(f)) out.push({ name: `${d}/model.onnx`, bytes: readFileSync(f) });
    }
  }
  const nn = ck.nn;
  ck.manualSeed(3);
  const exported: [string, ck.nn.Module, number[]][] = [
    ['export:cnn', new nn.Sequential(new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2, { fit: 'ceil' }), new nn.LocalResponseNorm(3), new nn.Flatten(), new nn.Linear(4 * 4 * 4, 5), new nn.Softmax(1)), [1, 7, 7]],
    ['export:odd', new nn.Sequential(new nn.ReflectionPad2d(1), new nn.ConvTranspose2d(2, 2, 3, { stride: 2 }), new nn.AdaptiveAvgPool2d([3, 2]), new nn.LPPool2d(2, 1), new nn.LocallyConnected2d(2, 2, 2, { inputSize: [3, 2] })), [2, 4, 4]],
  ];
  for (const [name, model, shape] of exported) out.push({ name, bytes: ck.io.exportOnnx(model, { inputShape: shape }) });
  // Own copies: mutations must never write into a seed (a Buffer's slice() is a view).
  return out.map((s) => ({ name: s.name, bytes: Uint8Array.from(s.bytes) }));
}

type Rand = ck.Generator;
const int = (g: Rand, n: number) => g.int(Math.max(1, n));

/** Structured edits need the decoded model; they return null when the model has nothing to edit. */
const structured: Record<string, (m: ModelProto, g: Rand) => boolean> = {
  'huge dim': (m, g) => setDim(m, g, [2 ** 40, 2 ** 31, 2 ** 53, 1e300][int(g, 4)]!),
  'negative dim': (m, g) => setDim(m, g, -1 - int(g, 5)),
  'zero dim': (m, g) => setDim(m, g, 0),
  'huge attribute': (m, g) => setAttr(m, g, [2 ** 40, 2 ** 31 - 1, 1e9, -(2 ** 40)][int(g, 4)]!),
  'negative attribute': (m, g) => setAttr(m, g, -1 - int(g, 3)),
  'repeated field x100000': (m, g) => {
    const g0 = m.graph!;
    const which = int(g, 3);
    if (which === 0 && g0.initializer.length) g0.initializer[int(g, g0.initializer.length)]!.dims.push(...new Array<number>(100_000).fill(1));
    else if (which === 1 && g0.node.length) {
      const n = g0.node[int(g, g0.node.length)]!;
      n.input.push(...new Array<string>(100_000).fill(n.input[0] ?? 'x'));
    } else if (g0.node.length) g0.node.push(...new Array(1_000).fill(g0.node[int(g, g0.node.length)]!));
    else return false;
    return true;
  },
  'swap op type': (m, g) => {
    const nodes = m.graph!.node;
    if (!nodes.length) return false;
    const ops = ck.io.onnxOperators();
    nodes[int(g, nodes.length)]!.op_type = ops[int(g, ops.length)]!;
    return true;
  },
  'drop node': (m, g) => {
    const nodes = m.graph!.node;
    if (!nodes.length) return false;
    nodes.splice(int(g, nodes.length), 1);
    return true;
  },
  'opset': (m, g) => {
    if (!m.opset_import.length) return false;
    m.opset_import[0]!.version = [0, 1, 5, 22, 99, -3, 2 ** 40][int(g, 7)]!;
    return true;
  },
};

function setDim(m: ModelProto, g: Rand, v: number): boolean {
  const graph = m.graph!;
  const dims = [
    ...graph.initializer.map((t) => t.dims),
    ...graph.input.map((i) => i.type?.tensor_type?.shape?.dim.map((d) => d.dim_value)).filter((d): d is NonNullable<typeof d> => !!d),
  ].filter((d) => d.length > 0);
  if (!dims.length) return false;
  const d = dims[int(g, dims.length)]!;
  d[int(g, d.length)] = v;
  return true;
}

function setAttr(m: ModelProto, g: Rand, v: number): boolean {
  const attrs = m.graph!.node.flatMap((n) => n.attribute);
  if (!attrs.length) return false;
  const a = attrs[int(g, attrs.length)]!;
  if (a.ints.length) a.ints[int(g, a.ints.length)] = v;
  else if (a.type === 1) a.f = v;
  else a.i = v;
  return true;
}

/** Byte-level mutations. */
function mutateBytes(src: Uint8Array, g: Rand): { bytes: Uint8Array; mutation: string } {
  const kind = int(g, 6);
  const pos = int(g, src.length);
  if (kind === 0) {
    const out = src.slice();
    const flips = 1 + int(g, 8);
    for (let i = 0; i < flips; i++) out[int(g, out.length)]! ^= 1 << int(g, 8);
    return { bytes: out, mutation: `flip ${flips} bits` };
  }
  if (kind === 1) {
    const ins = Uint8Array.from({ length: 1 + int(g, 16) }, () => int(g, 256));
    return { bytes: concat(src.subarray(0, pos), ins, src.subarray(pos)), mutation: `insert ${ins.length} bytes at ${pos}` };
  }
  if (kind === 2) {
    const n = 1 + int(g, 32);
    return { bytes: concat(src.subarray(0, pos), src.subarray(Math.min(src.length, pos + n))), mutation: `delete ${n} bytes at ${pos}` };
  }
  if (kind === 3) return { bytes: src.slice(0, pos), mutation: `truncate to ${pos} bytes` };
  if (kind === 4) {
    const out = src.slice();
    const n = 1 + int(g, 10);
    out.fill([0xff, 0x80, 0x00, 0x7f][int(g, 4)]!, pos, pos + n);
    return { bytes: out, mutation: `overwrite ${n} bytes at ${pos}` };
  }
  const len = 1 + int(g, 64);
  const chunk = src.subarray(pos, pos + len);
  const times = 1 + int(g, 2000);
  return { bytes: concat(src.subarray(0, pos), ...new Array<Uint8Array>(times).fill(chunk), src.subarray(pos)), mutation: `repeat ${chunk.length} bytes at ${pos} x${times}` };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function mutate(seed: Uint8Array, g: Rand): { bytes: Uint8Array; mutation: string } {
  if (g.uniform() < 0.6) return mutateBytes(seed, g);
  const names = Object.keys(structured);
  const name = names[int(g, names.length)]!;
  const model = decodeModel(seed);
  if (!structured[name]!(model, g)) return mutateBytes(seed, g);
  try {
    return { bytes: encodeModel(model), mutation: name };
  } catch {
    // protobufjs refuses to encode some edits (a value out of range for its field): try bytes.
    return mutateBytes(seed, g);
  }
}

/** Loads a mutated file and, when it loads, runs it on a small input built from its declared sizes. */
function exercise(bytes: Uint8Array): { loaded: boolean; ran: boolean } {
  const model = ck.io.loadOnnxBytes(bytes, { maxTensorElements: MAX_ELEMENTS, name: 'fuzzed model' });
  const proto = decodeModel(bytes);
  const inits = new Set(proto.graph!.initializer.map((t) => t.name));
  const shapes = proto.graph!.input
    .filter((i) => !inits.has(i.name))
    .map((i) => (i.type?.tensor_type?.shape?.dim ?? []).map((d) => {
      const v = Number(d.dim_value ?? 0);
      return Number.isSafeInteger(v) && v > 0 ? v : 1;
    }));
  if (shapes.some((s) => s.reduce((a, b) => a * b, 1) > 1e5)) return { loaded: true, ran: false };
  ck.tidy(() => {
    const inputs = shapes.map((s, k) => ck.randn(s, { seed: k + 1 }));
    ck.noGrad(() => model.runAll(...inputs));
  });
  return { loaded: true, ran: true };
}

export interface CaseResult {
  index: number;
  seedFile: string;
  mutation: string;
  /** 'ok': loaded (and ran); 'refused': a ConvkitError; 'error': anything else. */
  status: 'ok' | 'refused' | 'error';
  ran: boolean;
  error: string;
  ms: number;
}

/** One case, from its own generator: case i is the same whichever cases run before it. */
export function runCase(seeds: readonly { name: string; bytes: Uint8Array }[], fuzzSeed: number, index: number, outDir?: string, slowMs = 1000): CaseResult {
  const g = new ck.Generator(fuzzSeed * 1_000_003 + index);
  const seed = seeds[int(g, seeds.length)]!;
  const { bytes, mutation } = mutate(seed.bytes, g);
  // Written first, so that a case that hangs or kills the process is on disk to reproduce.
  const file = outDir ? join(outDir, `case-${fuzzSeed}-${index}.onnx`) : null;
  if (file) {
    mkdirSync(outDir!, { recursive: true });
    writeFileSync(file, bytes);
  }
  const t0 = performance.now();
  const result: CaseResult = { index, seedFile: seed.name, mutation, status: 'ok', ran: false, error: '', ms: 0 };
  try {
    result.ran = exercise(bytes).ran;
  } catch (e) {
    result.status = e instanceof ck.ConvkitError ? 'refused' : 'error';
    if (result.status === 'error') result.error = `${(e as Error)?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)}`.slice(0, 300);
  }
  result.ms = performance.now() - t0;
  if (file && result.status !== 'error' && result.ms <= slowMs) rmSync(file, { force: true });
  return result;
}

function tally(report: FuzzReport, r: CaseResult, slowMs: number): void {
  report.cases++;
  if (r.status !== 'refused' && !(r.status === 'error')) report.loaded++;
  if (r.ran) report.ran++;
  if (r.status === 'refused') report.convkitErrors++;
  report.slowestMs = Math.max(report.slowestMs, r.ms);
  const entry = { index: r.index, seedFile: r.seedFile, mutation: r.mutation, error: r.error, ms: r.ms };
  if (r.status === 'error') report.failures.push(entry);
  if (r.ms > slowMs) report.slow.push(entry);
}

const emptyReport = (): FuzzReport => ({ cases: 0, ms: 0, loaded: 0, ran: 0, convkitErrors: 0, failures: [], slow: [], slowestMs: 0 });

/** Runs the cases in this process (the smoke test): a case that never returns stalls it. */
export function runFuzz(opts: FuzzOptions): FuzzReport {
  const seeds = opts.seeds ?? seedFiles();
  const slowMs = opts.slowMs ?? 1000;
  const report = emptyReport();
  const start = performance.now();
  for (let i = 0; i < opts.cases; i++) {
    if (opts.budgetMs !== undefined && performance.now() - start > opts.budgetMs) break;
    tally(report, runCase(seeds, opts.seed, i, opts.outDir, slowMs), slowMs);
  }
  report.ms = performance.now() - start;
  return report;
}

/**
 * Runs the cases in a child process that reports each case as a JSON line. A case that takes
 * longer than `hangMs` gets the child killed, is recorded as a hang (its file is in outDir),
 * and a new child goes on with the next case.
 */
async function superviseFuzz(opts: FuzzOptions, hangMs: number, onProgress: (done: number) => void): Promise<FuzzReport> {
  const slowMs = opts.slowMs ?? 1000;
  const report = emptyReport();
  const start = performance.now();
  await runChildCases({
    cases: opts.cases,
    hangMs,
    childArgs: (from) => [process.argv[1]!, fileURLToPath(import.meta.url), '--child', '--from', String(from), '--cases', String(opts.cases), '--seed', String(opts.seed), '--out', opts.outDir ?? ''],
    onCase: (result) => {
      tally(report, result as CaseResult, slowMs);
      onProgress(report.cases);
    },
    onLost: (index, error) => {
      // Killed for taking too long (or crashed) on case `index`.
      const entry = { index, seedFile: '?', mutation: '?', error, ms: hangMs };
      report.cases++;
      report.failures.push(entry);
      report.slow.push(entry);
    },
  });
  report.ms = performance.now() - start;
  return report;
}

function parseArgs(argv: string[]): FuzzOptions & { child: boolean; from: number; hangMs: number } {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const cases = Number(get('--cases') ?? 10_000);
  const seed = Number(get('--seed') ?? 1);
  const from = Number(get('--from') ?? 0);
  const hangMs = Number(get('--hang-ms') ?? 30_000);
  if (![cases, seed, from, hangMs].every(Number.isSafeInteger) || cases < 1) {
    throw new ck.ConvkitError('usage: npm run fuzz -- [--cases N] [--seed S] [--out DIR] [--hang-ms MS]');
  }
  return { cases, seed, outDir: get('--out') || 'fuzz-failures', child: argv.includes('--child'), from, hangMs };
}

// Run as a script (vite-node scripts/fuzz-onnx.ts); imported by the smoke test, it only exports the engine.
if (!process.env['VITEST']) {
  const opts = parseArgs(process.argv);
  const backend = process.env['CONVKIT_BACKEND'];
  if (backend) await ck.setBackend(backend);
  if (opts.child) {
    const seeds = seedFiles();
    process.stdout.write('ready\n');
    for (let i = opts.from; i < opts.cases; i++) process.stdout.write(`${JSON.stringify(runCase(seeds, opts.seed, i, opts.outDir))}\n`);
  } else {
    console.log(`fuzzing the ONNX importer: ${opts.cases} cases, seed ${opts.seed}, backend ${ck.getBackendName()}, a case over ${opts.hangMs} ms counts as a hang`);
    const r = await superviseFuzz(opts, opts.hangMs, (done) => done % 1000 === 0 && console.log(`  ${done} cases`));
    const rate = (r.cases / (r.ms / 1000)).toFixed(0);
    console.log(
      `${r.cases} cases in ${(r.ms / 1000).toFixed(1)} s (${rate}/s): ${r.loaded} loaded, ${r.ran} ran, ${r.convkitErrors} refused with a ConvkitError; ` +
        `${r.failures.length} other errors or hangs, ${r.slow.length} over 1 s (slowest ${r.slowestMs.toFixed(0)} ms)`,
    );
    for (const f of [...r.failures, ...r.slow.filter((s) => !r.failures.includes(s))].slice(0, 30)) {
      console.log(`  case ${f.index} (${f.seedFile}, ${f.mutation}, ${f.ms.toFixed(0)} ms): ${f.error || 'slow'}`);
    }
    if (r.failures.length || r.slow.length) {
      console.log(`their files are in ${opts.outDir}/ (case-<seed>-<index>.onnx)`);
      process.exitCode = 1;
    }
  }
}
