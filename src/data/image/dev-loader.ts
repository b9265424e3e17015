/**
 * Lets worker threads run convkit from its TypeScript sources (tests, `tsx` scripts): when the
 * compiled pipeline-worker.js is absent, workers register these module hooks, which map
 * './x.js' imports to './x.ts' and compile each file with esbuild (a dependency of vitest and
 * tsx, so present wherever the sources are run). Published builds never use this.
 */
export const DEV_LOADER_HOOKS = `
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
let esbuildPath;
let esbuild;
export function initialize(data) { esbuildPath = data.esbuild; }
export async function resolve(specifier, context, next) {
  if (specifier.endsWith('.js') && context.parentURL && context.parentURL.endsWith('.ts') && !specifier.startsWith('node:')) {
    const url = new URL(specifier, context.parentURL);
    if (url.protocol === 'file:' && !existsSync(fileURLToPath(url))) {
      const ts = url.href.slice(0, -3) + '.ts';
      if (existsSync(fileURLToPath(ts))) return { url: ts, format: 'module', shortCircuit: true };
    }
  }
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  esbuild ??= await import(pathToFileURL(esbuildPath).href);
  const transform = esbuild.transform ?? esbuild.default.transform;
  const path = fileURLToPath(url);
  const out = await transform(readFileSync(path, 'utf8'), { loader: 'ts', format: 'esm', target: 'node20', sourcefile: path, sourcemap: 'inline' });
  return { format: 'module', source: out.code, shortCircuit: true };
}
`;

/** The worker bootstrap (CommonJS, run with eval): optional hooks, then the entry module. */
export const WORKER_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
if (workerData.hooks) require('node:module').register(workerData.hooks, { data: { esbuild: workerData.esbuild } });
import(workerData.entry).catch((e) => {
  workerData.port.postMessage({ id: -1, ok: false, error: 'image worker failed to start: ' + (e && e.message), convkit: true });
  Atomics.add(workerData.counter, 0, 1);
  Atomics.notify(workerData.counter, 0);
});
`;
