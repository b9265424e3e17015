import { describe, expect, it } from 'vitest';
import { relaxedSimdSupported } from '../../src/backend/wasm/loader.js';
import { runtime } from '../../src/backend/wasm/instance.js';
import * as ck from '../../src/index.js';

/**
 * Which kernel build runs: the relaxed-SIMD one (fused multiply-add) wherever the engine takes
 * it, which Node 20 does once convkit turns on its V8 flag; CONVKIT_WASM_FMA=0 keeps the
 * portable one (the 'portable-simd' test project runs every wasm kernel test that way).
 */
describe('wasm kernel build', () => {
  const wantFma = process.env.CONVKIT_WASM_FMA !== '0';

  it(wantFma ? 'loads the relaxed-SIMD (FMA) build in Node' : 'loads the portable build when CONVKIT_WASM_FMA=0', () => {
    expect(relaxedSimdSupported()).toBe(wantFma);
    expect(runtime().fma).toBe(wantFma);
  });

  it('computes long dot products exactly where every partial sum is representable', () => {
    // Multiples of 1/32 far below 2^24/32: every product and partial sum is exact in float32,
    // fused or not, in any order, so the result must equal the float64 sum exactly.
    const k = 4096;
    const a = ck.tensor(Float32Array.from({ length: k }, (_, i) => ((i % 7) - 3) / 8), [1, k]);
    const b = ck.tensor(Float32Array.from({ length: k * 8 }, (_, i) => ((i % 5) - 2) / 4), [k, 8]);
    let exact = 0;
    const want = Array.from({ length: 8 }, (_, j) => {
      exact = 0;
      for (let p = 0; p < k; p++) exact += (((p % 7) - 3) / 8) * ((((p * 8 + j) % 5) - 2) / 4);
      return exact;
    });
    const got = Array.from(ck.tidy(() => ck.matmul(a, b).values()));
    // And through the GEMM micro-kernel (more than one row).
    const rows = ck.tidy(() => Array.from(ck.matmul(ck.cat([a, a, a, a, a], 0), b).values()));
    expect(rows.slice(32)).toEqual(want);
    expect(got).toEqual(want);
  });
});
