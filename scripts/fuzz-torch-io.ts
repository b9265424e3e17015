/**
 * Fuzzes the PyTorch file readers, ck.io.loadTorch (.pth/.pt) and ck.io.loadSafetensors:
 * valid files (test/fixtures/torch-io) are mutated and each result is loaded. Raw mutations
 * (bit flips, truncation, inserted and cut chunks, damaged zip directories and size fields)
 * mostly meet the container checks (and are all that legacy-format seeds get); structured ones rebuild the zip with correct CRCs after
 * editing the pickle (bytes, integers such as numel, offsets, shapes and strides), resizing or
 * rewriting storages, or dropping and renaming entries, and edit safetensors headers (offsets,
 * shapes, dtypes, header length, metadata), so that the unpickler and the layout checks are
 * reached. Every case must end in a ConvkitError or a load whose tensors are whole; anything
 * else, or a case slower than --slow-ms, is reported.
 *
 *   npm run fuzz:torch-io                          # 5,000 .pth + 5,000 safetensors cases, seed 1
 *   npm run fuzz:torch-io -- --cases 20000 --seed 7 --format pth --out fuzz-failures
 *
 * The run happens in a child process that a supervisor kills when one case takes longer than
 * --hang-ms (reported as a hang). test/io/torch-io/fuzz.test.ts runs a smoke of the same engine.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ck from '../src/index.js';
import { runChildCases } from './lib/fuzz-children.js';
import { ZipArchive } from '../src/io/torch/zip.js';
import { zipOf } from '../test/io/torch-io/craft.js';

export type Format = 'pth' | 'safetensors';

export interface TorchFuzzOptions {
  format: Format;
  cases: number;
  seed: number;
  /** Report a case slower than this (ms). */
  slowMs?: number;
  /** Stop early once this much time (ms) has passed (the smoke run's time box). */
  budgetMs?: number;
  /** Where to write the bytes of failing cases (none if unset). */
  outDir?: string;
}

export interface CaseResult {
  index: number;
  seedFile: string;
  mutation: string;
  outcome: 'loaded' | 'refused' | 'failed';
  error: string;
  ms: number;
}

export interface TorchFuzzReport {
  cases: number;
  ms: number;
  loaded: number;
  refused: number;
  failures: CaseResult[];
  slow: CaseResult[];
  slowestMs: number;
  /** How many cases each mutation made, and how many of those loaded. */
  byMutation: Record<string, { cases: number; loaded: number }>;
}

const FIXTURES = fileURLToPath(new URL('../test/fixtures/torch-io/', import.meta.url));
const SEEDS: Record<Format, string[]> = {
  pth: ['state_dict.pth', 'dtypes.pth', 'checkpoint_state_dict.pth', 'checkpoint_model.pth', 'state_dict_deflated.pth', 'legacy.pth', 'dtypes_legacy.pth'],
  safetensors: ['state_dict.safetensors', 'dtypes.safetensors', 'f32_only.safetensors'],
};

interface Seed {
  name: string;
  bytes: Uint8Array;
  /** The zip's entries, uncompressed (zip .pth files only; legacy ones get the raw mutations). */
  entries: [string, Uint8Array][];
}

export async function loadSeeds(format: Format): Promise<Seed[]> {
  const out: Seed[] = [];
  for (const name of SEEDS[format]) {
    const bytes = Uint8Array.from(readFileSync(join(FIXTURES, name)));
    const entries: [string, Uint8Array][] = [];
    if (format === 'pth' && bytes[0] === 0x50) {
      const zip = new ZipArchive(bytes, name);
      for (const e of zip.entries.values()) entries.push([e.name, Uint8Array.from(await zip.read(e))]);
    }
    out.push({ name, bytes, entries });
  }
  return out;
}

type Rand = ck.Generator;
const int = (g: Rand, n: number) => g.int(Math.max(1, n));
const pick = <T>(g: Rand, xs: readonly T[]): T => xs[int(g, xs.length)]!;

/** Byte-level edits that know nothing of the format. */
const raw: Record<string, (b: Uint8Array, g: Rand) => Uint8Array> = {
  'bit flips': (b, g) => {
    const out = b.slice();
    for (let n = 1 + int(g, 16); n > 0; n--) out[int(g, out.length)]! ^= 1 << int(g, 8);
    return out;
  },
  truncate: (b, g) => b.slice(0, int(g, b.length)),
  'insert chunk': (b, g) => {
    const at = int(g, b.length + 1);
    const chunk = Uint8Array.from({ length: 1 + int(g, 64) }, () => (g.int(2) ? 0xff : int(g, 256)));
    return concat(b.subarray(0, at), chunk, b.subarray(at));
  },
  'cut chunk': (b, g) => {
    const at = int(g, b.length);
    return concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(g, 64))));
  },
  'tail bytes': (b, g) => {
    const out = b.slice();
    for (let n = 1 + int(g, 6); n > 0; n--) out[out.length - 1 - int(g, Math.min(out.length, 160))] = g.int(2) ? 0xff : int(g, 256);
    return out;
  },
};

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const u32s = [0, 1, 7, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe];

/** .pth edits: most rebuild the zip with correct CRCs so that the pickle and storages are read. */
const pth: Record<string, (s: Seed, g: Rand) => Uint8Array> = {
  ...Object.fromEntries(Object.entries(raw).map(([k, f]) => [k, (s: Seed, g: Rand) => f(s.bytes, g)])),
  'zip size field': (s, g) => {
    const out = s.bytes.slice();
    const v = new DataView(out.buffer);
    const records: number[] = [];
    for (let i = 0; i + 4 <= out.length; i++) if (v.getUint32(i, true) === 0x02014b50) records.push(i);
    const at = pick(g, records) + pick(g, [20, 24, 42, 28, 30]);
    v.setUint32(at, g.int(2) ? pick(g, u32s) : int(g, 1 << 20), true);
    return out;
  },
  'pickle bytes': (s, g) => editEntry(s, g, /data\.pkl$/, (b) => raw['bit flips']!(b, g)),
  'pickle chunk': (s, g) => editEntry(s, g, /data\.pkl$/, (b) => pick(g, [raw['insert chunk']!, raw['cut chunk']!, raw.truncate!])(b, g)),
  'pickle integer': (s, g) =>
    editEntry(s, g, /data\.pkl$/, (b) => {
      // Operands of BININT1 ('K'), BININT2 ('M') and BININT ('J'): numel, offsets, sizes, strides, memo slots.
      const out = b.slice();
      const at: number[] = [];
      for (let i = 0; i < out.length; i++) if (out[i] === 0x4b || out[i] === 0x4d || out[i] === 0x4a) at.push(i);
      for (let n = 1 + int(g, 3); n > 0 && at.length; n--) {
        const i = pick(g, at);
        const width = out[i] === 0x4b ? 1 : out[i] === 0x4d ? 2 : 4;
        const v = new DataView(out.buffer, out.byteOffset);
        const value = pick(g, [0, 1, 2, 3, 4, 255, 65535, 0x7fffffff, -1, int(g, 1000)]);
        if (i + 1 + width <= out.length) {
          if (width === 1) out[i + 1] = value & 0xff;
          else if (width === 2) v.setUint16(i + 1, value & 0xffff, true);
          else v.setInt32(i + 1, value | 0, true);
        }
      }
      return out;
    }),
  'storage size': (s, g) =>
    editEntry(s, g, /\/data\/\d+$/, (b) => (g.int(2) ? b.slice(0, int(g, b.length)) : concat(b, new Uint8Array(1 + int(g, 64))))),
  'storage bytes': (s, g) => editEntry(s, g, /\/data\/\d+$/, (b) => raw['bit flips']!(b, g)),
  'drop entry': (s, g) => {
    const entries = s.entries.slice();
    entries.splice(int(g, entries.length), 1);
    return zipOf(entries);
  },
  'rename entry': (s, g) => {
    const entries = s.entries.slice();
    const i = int(g, entries.length);
    const [name, bytes] = entries[i]!;
    entries[i] = [pick(g, [`${name}x`, name.replace(/^[^/]+/, 'other'), 'data.pkl', `${name.split('/')[0]}/data/${int(g, 12)}`]), bytes];
    return zipOf(entries);
  },
};

/** Replaces one entry matching `which` (chosen at random) and rebuilds the zip, stored, with correct CRCs. */
function editEntry(s: Seed, g: Rand, which: RegExp, edit: (b: Uint8Array) => Uint8Array): Uint8Array {
  const idx = s.entries.map(([n], i) => (which.test(n) ? i : -1)).filter((i) => i >= 0);
  const entries = s.entries.slice();
  const i = pick(g, idx);
  entries[i] = [entries[i]![0], edit(entries[i]![1])];
  return zipOf(entries);
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function splitSafetensors(b: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } {
  const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(dec.decode(b.subarray(8, 8 + n))) as Record<string, unknown>, data: b.subarray(8 + n) };
}

function joinSafetensors(headerText: string, data: Uint8Array): Uint8Array {
  const h = enc.encode(headerText);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const weird = (g: Rand, v: number): unknown => pick(g, [0, v + 1, v - 1, v * 2, 2 ** 31, 2 ** 53, -1, 1e300, 0.5, '3', null, [v]]);

/** safetensors edits: header fields, the header length, and the raw ones. */
const safetensors: Record<string, (s: Seed, g: Rand) => Uint8Array> = {
  ...Object.fromEntries(Object.entries(raw).map(([k, f]) => [k, (s: Seed, g: Rand) => f(s.bytes, g)])),
  'header length': (s, g) => {
    const out = s.bytes.slice();
    const v = new DataView(out.buffer);
    const n = v.getBigUint64(0, true);
    v.setBigUint64(0, pick(g, [0n, 1n, n - 1n, n + 1n, n + 8n, 2n ** 32n, 2n ** 63n, BigInt(out.length)]), true);
    return out;
  },
  'header field': (s, g) => {
    const { header, data } = splitSafetensors(s.bytes);
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    const info = header[pick(g, names)] as { dtype: unknown; shape: unknown[]; data_offsets: unknown[] };
    const field = int(g, 3);
    if (field === 0) info.dtype = pick(g, ['F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'I8', 'U8', 'BOOL', 'F8_E4M3', 'C64', '', 7]);
    else if (field === 1 && info.shape.length) {
      const i = int(g, info.shape.length);
      info.shape[i] = weird(g, info.shape[i] as number);
    } else if (field === 1) info.shape.push(pick(g, [0, 1, 2]));
    else {
      const i = int(g, 2);
      info.data_offsets[i] = weird(g, info.data_offsets[i] as number);
    }
    return joinSafetensors(JSON.stringify(header), data);
  },
  'header entries': (s, g) => {
    const { header, data } = splitSafetensors(s.bytes);
    const names = Object.keys(header);
    const k = pick(g, names);
    const what = int(g, 3);
    if (what === 0) delete header[k];
    else if (what === 1) header[`${k}.copy`] = header[k];
    else header['__metadata__'] = pick(g, [null, 3, [1], { a: 1 }, { a: 'b' }, 'x']);
    return joinSafetensors(JSON.stringify(header), data);
  },
  'header text': (s, g) => {
    const b = s.bytes.slice();
    const n = Number(new DataView(b.buffer).getBigUint64(0, true));
    for (let k = 1 + int(g, 3); k > 0; k--) b[8 + int(g, n)] = pick(g, [0x22, 0x2c, 0x3a, 0x7b, 0x7d, 0x5b, 0x5d, 0x30 + int(g, 10), 0x2d, 0x20, 0x00, 0xc3]);
    return b;
  },
};

function check(result: Map<string, ck.Tensor>): void {
  for (const [k, t] of result) {
    if (!(t instanceof ck.Tensor)) throw new Error(`${k} is not a Tensor`);
    if (t.values().length !== t.size) throw new Error(`${k}: ${t.values().length} values for shape [${t.shape.join(', ')}]`);
  }
}

/** One case: its own generator (seed, index), so that any case can be rerun alone. */
export async function runCase(format: Format, seeds: Seed[], seed: number, index: number, outDir?: string): Promise<CaseResult> {
  const g = new ck.Generator(seed * 1_000_003 + index);
  const s = pick(g, seeds);
  const table = format === 'pth' ? pth : safetensors;
  const mutation = pick(g, format === 'pth' && !s.entries.length ? Object.keys(raw) : Object.keys(table));
  const bytes = table[mutation]!(s, g);
  const start = performance.now();
  let outcome: CaseResult['outcome'] = 'loaded';
  let error = '';
  try {
    if (format === 'pth') check(await ck.io.loadTorch(bytes));
    else check((await ck.io.loadSafetensors(bytes)).tensors);
  } catch (e) {
    if (e instanceof ck.ConvkitError) outcome = 'refused';
    else {
      outcome = 'failed';
      error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
  }
  const ms = performance.now() - start;
  if (outcome === 'failed' && outDir) {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, `case-${seed}-${index}.${format}`), bytes);
  }
  return { index, seedFile: s.name, mutation, outcome, error, ms };
}

function emptyReport(): TorchFuzzReport {
  return { cases: 0, ms: 0, loaded: 0, refused: 0, failures: [], slow: [], slowestMs: 0, byMutation: {} };
}

function tally(r: TorchFuzzReport, c: CaseResult, slowMs: number): void {
  r.cases++;
  if (c.outcome === 'loaded') r.loaded++;
  else if (c.outcome === 'refused') r.refused++;
  else r.failures.push(c);
  if (c.ms > slowMs) r.slow.push(c);
  r.slowestMs = Math.max(r.slowestMs, c.ms);
  const m = (r.byMutation[c.mutation] ??= { cases: 0, loaded: 0 });
  m.cases++;
  if (c.outcome === 'loaded') m.loaded++;
}

/** Runs the cases in this process (the smoke test's way; a hang would stall it). */
export async function runTorchIoFuzz(opts: TorchFuzzOptions): Promise<TorchFuzzReport> {
  const seeds = await loadSeeds(opts.format);
  const slowMs = opts.slowMs ?? 1000;
  const report = emptyReport();
  const start = performance.now();
  for (let i = 0; i < opts.cases; i++) {
    if (opts.budgetMs !== undefined && performance.now() - start > opts.budgetMs) break;
    tally(report, await runCase(opts.format, seeds, opts.seed, i, opts.outDir), slowMs);
  }
  report.ms = performance.now() - start;
  return report;
}

/** Runs the cases in child processes; one that goes silent for hangMs is killed, and its case counts as a hang. */
async function supervise(opts: TorchFuzzOptions, hangMs: number): Promise<TorchFuzzReport> {
  const slowMs = opts.slowMs ?? 1000;
  const report = emptyReport();
  const start = performance.now();
  await runChildCases({
    cases: opts.cases,
    hangMs,
    childArgs: (from) => [process.argv[1]!, fileURLToPath(import.meta.url), '--child', '--format', opts.format, '--from', String(from), '--cases', String(opts.cases), '--seed', String(opts.seed), '--out', opts.outDir ?? ''],
    onCase: (result) => {
      tally(report, result as CaseResult, slowMs);
      if (report.cases % 1000 === 0) console.log(`  ${opts.format}: ${report.cases} cases`);
    },
    onLost: (index, error) => tally(report, { index, seedFile: '?', mutation: '?', outcome: 'failed', error, ms: hangMs }, slowMs),
  });
  report.ms = performance.now() - start;
  return report;
}

function parseArgs(argv: string[]) {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const cases = Number(get('--cases') ?? 5000);
  const seed = Number(get('--seed') ?? 1);
  const from = Number(get('--from') ?? 0);
  const hangMs = Number(get('--hang-ms') ?? 10_000);
  const slowMs = Number(get('--slow-ms') ?? 1000);
  const format = get('--format');
  if (![cases, seed, from, hangMs, slowMs].every(Number.isSafeInteger) || cases < 1 || (format !== undefined && format !== 'pth' && format !== 'safetensors')) {
    throw new ck.ConvkitError('usage: npm run fuzz:torch-io -- [--cases N per format] [--seed S] [--format pth|safetensors] [--out DIR] [--hang-ms MS] [--slow-ms MS]');
  }
  const formats: Format[] = format ? [format] : ['pth', 'safetensors'];
  return { cases, seed, from, hangMs, slowMs, formats, outDir: get('--out') || 'fuzz-failures', child: argv.includes('--child') };
}

// Run as a script (vite-node scripts/fuzz-torch-io.ts); imported by the smoke test, it only exports the engine.
if (!process.env['VITEST']) {
  const a = parseArgs(process.argv);
  await ck.setBackend('js');
  if (a.child) {
    const format = a.formats[0]!;
    const seeds = await loadSeeds(format);
    process.stdout.write('ready\n');
    for (let i = a.from; i < a.cases; i++) process.stdout.write(`${JSON.stringify(await runCase(format, seeds, a.seed, i, a.outDir))}\n`);
  } else {
    let bad = false;
    for (const format of a.formats) {
      console.log(`fuzzing ck.io.${format === 'pth' ? 'loadTorch' : 'loadSafetensors'}: ${a.cases} cases, seed ${a.seed}; a case over ${a.slowMs} ms is reported, over ${a.hangMs} ms killed`);
      const r = await supervise({ format, cases: a.cases, seed: a.seed, outDir: a.outDir, slowMs: a.slowMs }, a.hangMs);
      console.log(
        `${format}: ${r.cases} cases in ${(r.ms / 1000).toFixed(1)} s: ${r.loaded} loaded, ${r.refused} refused with a ConvkitError, ` +
          `${r.failures.length} other errors, crashes or hangs, ${r.slow.length} over ${a.slowMs} ms (slowest ${r.slowestMs.toFixed(0)} ms)`,
      );
      console.log(`  by mutation (cases/loaded): ${Object.entries(r.byMutation).map(([k, v]) => `${k} ${v.cases}/${v.loaded}`).join(', ')}`);
      for (const f of [...r.failures, ...r.slow.filter((s) => !r.failures.includes(s))].slice(0, 30)) {
        console.log(`  case ${f.index} (${f.seedFile}, ${f.mutation}, ${f.ms.toFixed(0)} ms): ${f.error || 'slow'}`);
      }
      if (r.failures.length || r.slow.length) bad = true;
    }
    if (bad) {
      console.log(`failing cases' files are in ${a.outDir}/ (case-<seed>-<index>.<format>)`);
      process.exitCode = 1;
    }
  }
}
