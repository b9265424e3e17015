import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { ConvkitError } from '../../tensor/errors.js';

/** Image files under a folder at any depth, sorted by name within each folder, hidden entries skipped. */
export function listImageFiles(dir: string, extensions: readonly string[]): string[] {
  if (!existsSync(dir)) throw new ConvkitError(`${dir}: no such folder`);
  if (!statSync(dir).isDirectory()) throw new ConvkitError(`${dir}: is a file, expected a folder of images`);
  const exts = extensions.map((e) => e.toLowerCase());
  const out: string[] = [];
  const walk = (d: string) => {
    const entries = readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      const isDir = e.isDirectory() || (e.isSymbolicLink() && statSync(p).isDirectory());
      if (isDir) walk(p);
      else if (exts.includes(extname(e.name).toLowerCase())) out.push(p);
    }
  };
  walk(dir);
  return out;
}
