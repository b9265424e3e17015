import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The browser entry must not reach Node built-ins or sharp: follow every static import from
 * src/index.ts (type-only imports excluded, they vanish when compiled) and check the modules
 * it reaches. The image code is the risk: decode, ImageFolder and workers are Node-only.
 */

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function reachable(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const text = readFileSync(file, 'utf8');
    const specs: string[] = [];
    const re = /^\s*(?:import|export)\s+(?!type\b)(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
    for (let m = re.exec(text); m; m = re.exec(text)) specs.push(m[1]!);
    seen.set(file, specs);
    for (const s of specs) {
      if (!s.startsWith('.')) continue;
      const ts = join(dirname(file), s.replace(/\.js$/, '.ts'));
      if (existsSync(ts)) visit(ts);
    }
  };
  visit(entry);
  return seen;
}

describe('browser entry', () => {
  it('reaches image code but no node: module and no sharp', () => {
    const graph = reachable(join(src, 'index.ts'));
    const files = [...graph.keys()].map((f) => f.slice(src.length + 1));
    expect(files).toContain('data/image/index.ts');
    expect(files).toContain('data/image/browser.ts');
    const bad = [...graph].flatMap(([file, specs]) => specs.filter((s) => s.startsWith('node:') || s === 'sharp').map((s) => `${file}: ${s}`));
    expect(bad).toEqual([]);
    for (const nodeOnly of ['decode.ts', 'encode.ts', 'image-folder.ts', 'worker-pool.ts', 'sharp.ts']) expect(files).not.toContain(`data/image/${nodeOnly}`);
  });
});
