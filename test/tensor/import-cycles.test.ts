// The source has no import cycles through values (type-only imports are erased and do not
// count): a cycle makes module evaluation order matter, and a bundler may split it badly.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

const root = resolve(__dirname, '../../src');

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Relative imports and re-exports that bring values (not `import type`, not all-`type` lists). */
function valueImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const deps: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)(?:([^;]*?)\s+from\s+)?'(\.[^']+)'/gms)) {
    const names = m[1]?.trim();
    if (names && /^\{[^}]*\}$/s.test(names)) {
      const list = names.slice(1, -1).split(',').map((n) => n.trim()).filter(Boolean);
      if (list.every((n) => n.startsWith('type '))) continue;
    }
    deps.push(resolve(dirname(file), m[2]!.replace(/\.js$/, '.ts')));
  }
  return deps;
}

/** Strongly connected components with more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next); low.set(v, next); next++; stack.push(v); onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); c.push(relative(root, w)); } while (w !== v);
      if (c.length > 1) found.push(c.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('source layering', () => {
  it('no value import cycles in src/ (tensor/storage.ts and tensor/scope.ts were one)', () => {
    const files = sources(root);
    const graph = new Map(files.map((f) => [f, valueImports(f)]));
    expect(graph.get(join(root, 'tensor/storage.ts'))).toContain(join(root, 'tensor/scope.ts'));
    expect(cycles(graph)).toEqual([]);
    // The detector itself finds a cycle when there is one.
    expect(cycles(new Map([['/a.ts', ['/b.ts']], ['/b.ts', ['/a.ts']]]))).toHaveLength(1);
  });

  it('tidy() given an async function throws a ConvkitError like everything else', () => {
    expect(() => ck.tidy((async () => ck.zeros([1])) as unknown as () => ck.Tensor)).toThrow(ck.ConvkitError);
    expect(() => ck.tidy((async () => ck.zeros([1])) as unknown as () => ck.Tensor)).toThrow(/synchronous function/);
  });
});
