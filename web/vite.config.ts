import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

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

/**
 * convkit reaches a few Node-only modules through dynamic imports that only Node paths take
 * (reading and writing files by path). In the browser bundle their `node:*` imports become a
 * module whose every export throws if ever called, instead of failing the build.
 */
function nodeBuiltinsUnavailable(): Plugin {
  const prefix = '\0node-unavailable:';
  return {
    name: 'convkit-node-builtins-unavailable',
    enforce: 'pre',
    resolveId: (id) => (id.startsWith('node:') ? prefix + id : null),
    load(id) {
      if (!id.startsWith(prefix)) return null;
      const name = JSON.stringify(id.slice(prefix.length));
      return {
        code: `const fail = () => { throw new Error(${name} + ' is not available in the browser'); };\nexport default new Proxy({}, { get: () => fail });\n`,
        syntheticNamedExports: true,
      };
    },
  };
}

export default defineConfig({
  plugins: [nodeBuiltinsUnavailable()],
  // Saved layers use their registered names (nn/registry.ts), which minification cannot touch;
  // keeping class names too keeps errors about unregistered classes readable.
  esbuild: { keepNames: true },
  root: here('.'),
  base: './',
  publicDir: here('public'),
  resolve: { alias: { convkit: here('../src/index.ts') } },
  build: {
    outDir: here('../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    // The kernels stay files: a data: URL would be fetched the same, but costs a third more bytes.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1500,
  },
  worker: { format: 'es', plugins: () => [nodeBuiltinsUnavailable()] },
  server: { headers: isolation },
  preview: { headers: isolation },
});
