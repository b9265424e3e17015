import { defineConfig } from 'vitest/config';

// CONVKIT_WASM_GUARD: every wasm job checks that no task wrote past its scratch (runtime.ts).
const shared = { testTimeout: 60_000, pool: 'forks' as const, env: { CONVKIT_WASM_GUARD: '1' } };

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'convkit', include: ['test/**/*.test.ts'] } },
      // The wasm kernels come in two builds: with relaxed-SIMD fused multiply-add (what Node and
      // Chromium load) and the portable mul + add one (engines without relaxed SIMD). The
      // kernel tests run once more on the portable build.
      {
        test: { ...shared, name: 'portable-simd', include: ['test/backend/wasm-*.test.ts'], env: { ...shared.env, CONVKIT_WASM_FMA: '0' } },
      },
    ],
  },
});
