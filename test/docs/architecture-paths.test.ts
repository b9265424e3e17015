/**
 * The docs stay true to the tree: every path docs/ARCHITECTURE.md names in backticks exists
 * (generated folders that .gitignore lists excepted), the README links it, and no file of the
 * repository's docs, sources, benchmarks or scripts points outside the repository (`../shared`),
 * which a person who clones convkit does not have.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

/** Backticked tokens that look like repository paths: a slash, or a file name with an extension. */
export function namedPaths(markdown: string): string[] {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/`([^`\s]+)`/g)) {
    const token = m[1]!;
    // `convkit/node` is the package's entry, not a path.
    if (!/^[\w.-]+(\/[\w.-]+)*\/?$/.test(token) || token.startsWith('convkit/')) continue;
    if (token.includes('/') || /\w\.(ts|mjs|js|md|json|py|wasm|html)$/.test(token)) out.add(token);
  }
  return [...out].sort();
}

function ignoredByGit(): Set<string> {
  return new Set(
    read('.gitignore')
      .split('\n')
      .map((l) => l.trim().replace(/^\//, ''))
      .filter((l) => l && !l.startsWith('#')),
  );
}

function filesUnder(dir: string): string[] {
  const abs = join(ROOT, dir);
  if (!statSync(abs).isDirectory()) return [dir];
  const ignored = ignoredByGit();
  return readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(ROOT.length).replace(/^\//, ''))
    .filter((p) => ![...ignored].some((g) => g.endsWith('/') && p.startsWith(g)) && !p.includes('node_modules/'));
}

describe('docs/ARCHITECTURE.md', () => {
  const doc = read('docs/ARCHITECTURE.md');

  it('names paths at all (the extraction works)', () => {
    expect(namedPaths('`src/ops/conv2d.ts`, `assembly/`, `F.conv2d`, `vitest.config.ts`, `a b/c`, `convkit/node`')).toEqual([
      'assembly/',
      'src/ops/conv2d.ts',
      'vitest.config.ts',
    ]);
    expect(namedPaths(doc).length).toBeGreaterThan(50);
  });

  it('every path it names exists', () => {
    const ignored = ignoredByGit();
    const missing = namedPaths(doc).filter((p) => !ignored.has(p) && !existsSync(join(ROOT, p)));
    expect(missing, 'paths named in docs/ARCHITECTURE.md that do not exist').toEqual([]);
  });

  it('the README links it', () => {
    expect(read('README.md')).toContain('docs/ARCHITECTURE.md');
  });
});

describe('no file points outside the repository', () => {
  it('README.md, docs, src, bench and scripts never mention ../shared', () => {
    const offenders = ['README.md', 'docs', 'src', 'bench', 'scripts']
      .flatMap(filesUnder)
      .filter((p) => /\.(md|ts|mjs|js|json|py|html|css)$/.test(p))
      .filter((p) => read(p).includes('../shared'));
    expect(offenders).toEqual([]);
  });
});
