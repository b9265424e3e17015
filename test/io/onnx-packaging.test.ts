/**
 * The importer is part of the browser entry: only node-files.ts (loaded with a dynamic import
 * when a path is given) may touch Node built-ins, and no .proto file is read at run time.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const DIR = fileURLToPath(new URL('../../src/io/onnx/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

it('only node-files.ts imports Node built-ins, and it is imported dynamically', () => {
  const offenders: string[] = [];
  for (const file of sources(DIR)) {
    const text = readFileSync(file, 'utf8');
    const name = relative(DIR, file);
    if (name !== 'node-files.ts' && /from '(node:|fs|path)/.test(text)) offenders.push(name);
    if (/^import .*node-files/m.test(text)) offenders.push(`${name} (static import of node-files)`);
    if (/\.proto['"]/.test(text)) offenders.push(`${name} (reads a .proto file)`);
  }
  expect(offenders).toEqual([]);
});
