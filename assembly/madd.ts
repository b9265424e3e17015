// acc + a * b on four lanes. Built twice (scripts/build-wasm.mjs): with relaxed SIMD this is one
// fused multiply-add (f32x4.relaxed_madd: a single rounding where the CPU has FMA, which is
// also at least as accurate), without it the portable mul + add pair. The loader picks the
// relaxed build only where the engine validates it.
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}
