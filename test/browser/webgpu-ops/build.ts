import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Bundles page.ts (the repo's TypeScript sources, the js and webgpu kernels) with esbuild into
 * one index.html in a fresh temporary folder, and returns that file. The page is opened from
 * file://, a secure context (WebGPU requires one) that may load no module script: the bundle is
 * a classic script inlined in the page.
 */
export async function buildOpsPage(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'convkit-webgpu-ops-'));
  const out = await build({
    entryPoints: [fileURLToPath(new URL('./page.ts', import.meta.url))],
    bundle: true,
    format: 'iife',
    target: 'es2022',
    platform: 'browser',
    write: false,
    logLevel: 'warning',
  });
  const js = out.outputFiles[0]!.text.replaceAll('</script', '<\\/script');
  const file = join(dir, 'index.html');
  writeFileSync(file, `<!doctype html><meta charset="utf-8"><title>convkit webgpu kernels</title><script>${js}</script>\n`);
  return file;
}
