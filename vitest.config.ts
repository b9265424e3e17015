import { defineConfig } from 'vitest/config';

// CONVKIT_WASM_GUARD: every wasm job checks that no task wrote past its scratch (runtime.ts).
const shared = { testTimeout: 60_000, pool: 'forks' as const, env: { CONVKIT_WASM_GUARD: '1' } };

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'convkit', include: ['test/**/*.test.ts'] } },
      // The wasm kernels come in two builds: with relaxed-SIMD fused multiply-add (what Node and
      // Chromium load) and the portable mul + add one (engines without relaxed SIMD). The
      // kernel tests run once more on the portable build. The two longest Winograd tables (F(4x4)
      // and 5x5 forward, ~25 s) run there only with CONVKIT_SLOW_TESTS=1: the builds differ in
      // the multiply-add alone, which the other Winograd suites exercise on both.
      // The webgpu checks that take minutes on a software adapter: `npm run test:webgpu`.
      { test: { ...shared, name: 'webgpu-slow', include: ['test/webgpu-slow/*.slow.ts'], testTimeout: 900_000 } },
      {
        test: {
          ...shared, name: 'portable-simd', include: ['test/backend/wasm-*.test.ts'],
          exclude: process.env['CONVKIT_SLOW_TESTS'] === '1' ? [] : ['test/backend/wasm-winograd-f4.test.ts', 'test/backend/wasm-winograd-5x5.test.ts'],
          env: { ...shared.env, CONVKIT_WASM_FMA: '0' },
        },
      },
    ],
  },
});
