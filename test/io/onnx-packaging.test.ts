/**
 * The importer is part of the browser entry: no file of it imports Node built-ins (node-files.ts
 * takes them at call time, see src/io/node-builtins.ts; test/packaging.test.ts checks the whole
 * entry), and no .proto file is read at run time.
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

it('imports no Node built-ins and reads no .proto file', () => {
  const offenders: string[] = [];
  for (const file of sources(DIR)) {
    const text = readFileSync(file, 'utf8');
    const name = relative(DIR, file);
    if (/from '(node:|fs|path)|import\('(node:|fs|path)/.test(text)) offenders.push(name);
    if (/\.proto['"]/.test(text)) offenders.push(`${name} (reads a .proto file)`);
  }
  expect(offenders).toEqual([]);
});
