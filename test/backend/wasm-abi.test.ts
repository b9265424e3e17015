import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as layout from '../../src/backend/wasm/job-layout.js';

/*
 * The wasm boundary is declared once, in src/backend/wasm/job-layout.ts: job kinds, argument
 * slots, opcodes and flags. The AssemblyScript side names the same numbers as `TABLE_KEY`
 * constants (`BN_X`, `KIND_BATCHNORM_STATS`); this test reads every assembly/*.ts source and
 * checks each table entry against its constant, and that no job kind or slot exists on one
 * side only. A slot renumbered on one side fails here, not as garbage in a kernel.
 */

const root = join(__dirname, '..', '..');
const assemblyDir = join(root, 'assembly');

/** Every `export const NAME = <int>` (several per statement allowed) of the AssemblyScript sources. */
function assemblyConstants(): Map<string, { value: number; file: string }[]> {
  const found = new Map<string, { value: number; file: string }[]>();
  for (const file of readdirSync(assemblyDir).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(assemblyDir, file), 'utf8');
    for (const stmt of text.matchAll(/^export const ([^;]+);/gm)) {
      for (const decl of stmt[1]!.split(',')) {
        const m = /^\s*([A-Z][A-Z0-9_]*)\s*(?::\s*i32)?\s*=\s*(-?\d+)\s*$/.exec(decl.replace(/\/\/.*$/, ''));
        if (!m) continue;
        const list = found.get(m[1]!) ?? [];
        list.push({ value: Number(m[2]), file });
        found.set(m[1]!, list);
      }
    }
  }
  return found;
}

/** Table names whose AssemblyScript prefix differs; JOB's words are bare (assembly/job.ts). */
const PREFIX: Record<string, string> = { DC: 'D', DWC: 'DW', C2I: 'C', EOP: 'OP', BOP: 'B', ROP: 'R', SMOP: 'SM', UOP: 'U', JOB: '' };
/** Keys whose AssemblyScript name is not the key in capitals (older, shorter names). */
const ALIAS: Record<string, string> = {
  'EOP.leakyRelu': 'OP_LEAKY', 'EOP.maximum': 'OP_MAX', 'EOP.minimum': 'OP_MIN',
  'KIND.maxPool': 'KIND_MAXPOOL', 'KIND.maxPoolGrad': 'KIND_MAXPOOL_GRAD', 'KIND.maxPoolValues': 'KIND_MAXPOOL_VALUES',
  'KIND.avgPool': 'KIND_AVGPOOL', 'KIND.avgPoolGrad': 'KIND_AVGPOOL_GRAD', 'KIND.batchNorm': 'KIND_BATCHNORM',
  'KIND.adaptiveMaxPool': 'KIND_ADAPTIVE_MAXPOOL',
  'BOP.maximum': 'B_MAX', 'BOP.minimum': 'B_MIN', 'UOP.leakyRelu': 'U_LEAKY',
  'SMOP.logSoftmax': 'SM_LOGSOFTMAX', 'SMOP.logSoftmaxGrad': 'SM_LOGSOFTMAX_GRAD',
  'KIND.argMax': 'KIND_ARGMAX', 'KIND.topK': 'KIND_TOPK', 'KIND.prelu': 'KIND_PRELU', 'KIND.preluGrad': 'KIND_PRELU_GRAD',
};

const snake = (key: string): string => (/^[A-Z0-9_]+$/.test(key) ? key : key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase());

function tables(): [string, Record<string, number>][] {
  return (Object.entries(layout) as [string, unknown][]).filter((e): e is [string, Record<string, number>] => typeof e[1] === 'object' && e[1] !== null);
}

describe('the wasm ABI, declared once in job-layout.ts', () => {
  const consts = assemblyConstants();

  it('every job kind, slot, opcode and flag of job-layout.ts has the same number in assembly/', () => {
    const wrong: string[] = [];
    for (const [table, entries] of tables()) {
      const prefix = PREFIX[table] ?? table;
      for (const [key, value] of Object.entries(entries)) {
        const name = ALIAS[`${table}.${key}`] ?? (prefix ? `${prefix}_${snake(key)}` : snake(key));
        const defs = consts.get(name);
        // Sizes like MAXD are bounds the kernels may state differently; slots and kinds must exist.
        if (!defs) {
          if (!/^(MAXD|KC)$/.test(key)) wrong.push(`${table}.${key} = ${value}: no ${name} in assembly/`);
          continue;
        }
        for (const d of defs) if (d.value !== value) wrong.push(`${table}.${key} = ${value}, but ${name} = ${d.value} in assembly/${d.file}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('every slot constant of assembly/ with a table prefix is declared in job-layout.ts', () => {
    const declared = new Set<string>();
    const prefixes = new Set<string>();
    for (const [table, entries] of tables()) {
      const prefix = PREFIX[table] ?? table;
      if (!prefix) continue;
      prefixes.add(prefix);
      for (const key of Object.keys(entries)) declared.add(ALIAS[`${table}.${key}`] ?? `${prefix}_${snake(key)}`);
    }
    const stray = [...consts.keys()].filter((n) => !declared.has(n) && prefixes.has(n.slice(0, n.indexOf('_'))));
    expect(stray).toEqual([]);
  });

  it('every job kind of assembly/ is declared in job-layout.ts, each number once', () => {
    const declared = new Map(Object.entries(layout.KIND).map(([k, v]) => [ALIAS[`KIND.${k}`] ?? `KIND_${snake(k)}`, v]));
    const stray = [...consts.keys()].filter((n) => n.startsWith('KIND_') && !declared.has(n));
    expect(stray).toEqual([]);
    const numbers = Object.values(layout.KIND);
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  it('the ABI version is the same number on both sides', () => {
    const index = readFileSync(join(assemblyDir, 'index.ts'), 'utf8');
    const runtime = readFileSync(join(root, 'src', 'backend', 'wasm', 'runtime.ts'), 'utf8');
    const asVersion = /abiVersion\(\): i32 \{\s*return (\d+);/.exec(index)?.[1];
    const tsVersion = /const ABI_VERSION = (\d+);/.exec(runtime)?.[1];
    expect(asVersion).toBeDefined();
    expect(asVersion).toBe(tsVersion);
  });
});
