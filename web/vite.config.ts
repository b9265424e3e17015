import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The playground's static build: `vite build -c web/vite.config.ts` writes dist/web/, plain
 * files that any static host can serve (relative base). 'convkit' resolves to the library's
 * sources, so the page always runs the current engine, and the wasm kernels are found by
 * Vite through their `new URL('./kernels.wasm', import.meta.url)`.
 */
const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

// Shared memory (wasm threads) needs a cross-origin isolated page.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: here('.'),
  base: './',
  publicDir: here('public'),
  resolve: {
    alias: [
      { find: /^convkit$/, replacement: here('../src/index.ts') },
      { find: /^convkit\/webgpu$/, replacement: here('../src/webgpu.ts') },
    ],
  },
  build: {
    outDir: here('../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    // The kernels stay files: a data: URL would be fetched the same, but costs a third more bytes.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1500,
  },
  worker: { format: 'es' },
  server: { headers: isolation },
  preview: { headers: isolation },
});
