/**
 * What bundlers see. The browser entry (src/index.ts) and everything it reaches must import no
 * Node built-in and make no dynamic import() (a web worker built as one IIFE file, Vite's
 * default, cannot code-split), so Vite, esbuild and webpack bundle it with default settings.
 * And every module with top-level side effects (layer registrations, backends, bare imports)
 * must be listed in package.json "sideEffects", or bundlers drop it when nothing names its
 * exports: a saved model could then not be loaded. scripts/bundlers-test.mjs checks the same
 * with the real bundlers; this test names the file at fault in a second.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { sideEffects: string[] };
/** The only npm package the browser entry may import. */
const BROWSER_PACKAGES = new Set(['protobufjs/light.js']);

interface Found {
  specifier: string;
  dynamic: boolean;
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
}

/** Module specifiers of imports and re-exports (not type-only ones), static and dynamic. */
function importsOf(src: ts.SourceFile): Found[] {
  const out: Found[] = [];
  for (const s of src.statements) {
    if (ts.isImportDeclaration(s) && !s.importClause?.isTypeOnly) out.push({ specifier: (s.moduleSpecifier as ts.StringLiteral).text, dynamic: false });
    if (ts.isExportDeclaration(s) && s.moduleSpecifier && !s.isTypeOnly) out.push({ specifier: (s.moduleSpecifier as ts.StringLiteral).text, dynamic: false });
  }
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = n.arguments[0];
      out.push({ specifier: arg && ts.isStringLiteralLike(arg) ? arg.text : '<expression>', dynamic: true });
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return out;
}

/** Every source file `entry` reaches through relative imports, with what each imports. */
function graph(entry: string): Map<string, Found[]> {
  const seen = new Map<string, Found[]>();
  const todo = [resolve(ROOT, entry)];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    const found = importsOf(parse(file));
    seen.set(file, found);
    for (const { specifier } of found) {
      if (specifier.startsWith('.')) todo.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
    }
  }
  return seen;
}

interface Effects {
  /** Modules imported for their side effects alone (`import './x.js'`). */
  bare: string[];
  /** Top-level statements that do something when the module is evaluated: calls, assignments. */
  own: string[];
  /** Whether the module declares exports of its own (not only re-exports). */
  definesExports: boolean;
}

/**
 * Declarations (variables included: their values are only needed when something uses them)
 * are no side effects.
 */
function effectsOf(src: ts.SourceFile): Effects {
  const out: Effects = { bare: [], own: [], definesExports: false };
  const exported = (s: ts.Statement): boolean => ts.canHaveModifiers(s) && (ts.getModifiers(s) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  for (const s of src.statements) {
    if (exported(s)) out.definesExports = true;
    if (ts.isImportDeclaration(s)) {
      if (!s.importClause) out.bare.push((s.moduleSpecifier as ts.StringLiteral).text);
      continue;
    }
    if (
      ts.isExportDeclaration(s) ||
      ts.isFunctionDeclaration(s) ||
      ts.isInterfaceDeclaration(s) ||
      ts.isTypeAliasDeclaration(s) ||
      ts.isVariableStatement(s) ||
      ts.isEnumDeclaration(s) ||
      ts.isModuleDeclaration(s) ||
      ts.isEmptyStatement(s)
    ) {
      continue;
    }
    if (ts.isClassDeclaration(s) && !s.members.some((m) => ts.isClassStaticBlockDeclaration(m))) continue;
    out.own.push(s.getText().split('\n')[0]!);
  }
  return out;
}

/** package.json "sideEffects" patterns use only `*` (within one path segment), as all three bundlers read it. */
function matcher(patterns: string[]): (path: string) => boolean {
  const res = patterns.map((p) => {
    expect(p, `sideEffects pattern ${p}`).toMatch(/^\.\/[\w./*-]+$/);
    return new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
  });
  return (path) => res.some((r) => r.test(path));
}

const browser = graph('src/index.ts');

/**
 * Effects that may go with their module: the ONNX importer registers OnnxModel (so that
 * ck.io.load can rebuild a saved imported model); a page that never names the importer leaves
 * both out, and loading such a file says what to do (src/io/model-file.ts). The zoo registers
 * torchvision's state-dict names: a page that never names ck.models has no zoo model to load
 * them into, and loadStateDict({ from: 'torchvision' }) without it says so (nn/state-dict-sources.ts).
 */
const DROPPED_WITH_THEIR_MODULE = new Set(['src/io/onnx/load-onnx.ts', 'src/models/index.ts']);

describe('the browser entry', () => {
  it('imports no Node built-in and no package but protobufjs, statically or dynamically', () => {
    const offenders: string[] = [];
    for (const [file, found] of browser) {
      for (const { specifier } of found) {
        if (!specifier.startsWith('.') && !BROWSER_PACKAGES.has(specifier)) offenders.push(`${relative(ROOT, file)}: ${specifier}`);
      }
    }
    expect(offenders).toEqual([]);
    // The graph is the real one: file access and the ONNX importer are part of it.
    const files = [...browser.keys()].map((f) => relative(ROOT, f));
    expect(files).toEqual(expect.arrayContaining(['src/io/files.ts', 'src/io/onnx/node-files.ts', 'src/io/onnx/proto.ts', 'src/train/trainer.ts']));
  });

  it('makes no dynamic import(): one file per worker, no code splitting', () => {
    const dynamic = [...browser].flatMap(([file, found]) => found.filter((f) => f.dynamic).map((f) => `${relative(ROOT, file)}: import(${f.specifier})`));
    expect(dynamic).toEqual([]);
  });

  it('finds what it looks for (the checks can fail)', () => {
    const src = ts.createSourceFile('x.ts', "import 'node:fs';\nimport type { A } from 'node:path';\nconst f = () => import('./y.js');\nregister('X', X);\nexport {};", ts.ScriptTarget.ES2022, true);
    expect(importsOf(src)).toEqual([
      { specifier: 'node:fs', dynamic: false },
      { specifier: './y.js', dynamic: true },
    ]);
    expect(effectsOf(src)).toEqual({ bare: ['node:fs'], own: ["register('X', X);"], definesExports: false });
    const m = matcher(['./*/nn/*.*', './*/io/onnx/export/convert-*']);
    expect([m('./src/nn/conv2d.ts'), m('./dist/nn/conv2d.js'), m('./dist/nn/x/conv2d.js'), m('./dist/io/onnx/export/convert-conv.js'), m('./dist/io/files.js')]).toEqual([
      true, true, false, true, false,
    ]);
  });
});

describe('package.json "sideEffects"', () => {
  const listed = matcher(pkg.sideEffects);
  const all = new Map([...browser, ...graph('src/node.ts')]);

  it('lists every module with top-level side effects, as sources and as built files', () => {
    const isListed = (file: string): boolean => {
      const rel = relative(ROOT, file);
      return listed(`./${rel}`) && listed(`./${rel.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js')}`);
    };
    const missing: string[] = [];
    for (const file of all.keys()) {
      const rel = relative(ROOT, file);
      const { bare, own, definesExports } = effectsOf(parse(file));
      if (own.length > 0 && !isListed(file) && !DROPPED_WITH_THEIR_MODULE.has(rel)) missing.push(`${rel}: ${own[0]}`);
      // A module imported for its effects must be kept; so must its importer, unless the importer
      // is only ever reached for what it defines (a bundler skips modules that only re-export).
      for (const b of bare.filter((b) => b.startsWith('.'))) {
        const target = resolve(dirname(file), b.replace(/\.js$/, '.ts'));
        if (!isListed(target)) missing.push(`${relative(ROOT, target)} (imported for its effects by ${rel})`);
      }
      if (bare.length > 0 && !definesExports && !isListed(file)) missing.push(`${rel}: re-exports only, and imports ${bare[0]} for its effects`);
    }
    expect(missing).toEqual([]);
  });

  it('leaves the ONNX importer and the image code out, so pages that do not use them drop them', () => {
    for (const rel of ['src/io/onnx/proto.ts', 'src/io/onnx/load-onnx.ts', 'src/io/onnx/export/export-onnx.ts', 'src/data/image/browser.ts', 'src/io/index.ts']) {
      expect(listed(`./${rel}`), rel).toBe(false);
    }
  });
});
