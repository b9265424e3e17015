import { defineConfig } from 'vitest/config';

const shared = { testTimeout: 60_000, pool: 'forks' as const };

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'convkit', include: ['test/**/*.test.ts'] } },
      // The wasm kernels come in two builds: with relaxed-SIMD fused multiply-add (what Node and
      // Chromium load) and the portable mul + add one (engines without relaxed SIMD). The
      // kernel tests run once more on the portable build.
      {
        test: { ...shared, name: 'portable-simd', include: ['test/backend/wasm-*.test.ts'], env: { CONVKIT_WASM_FMA: '0' } },
      },
    ],
  },
});
