// Short copies and fills as plain loops. V8 runs memory.copy / memory.fill through a call
// into the runtime (tens of nanoseconds each), which dominated kernels that move many short
// rows (im2col rows of 28 floats, partial tiles of the micro-kernel, slab rows).

/** The smallest multiple of b (> 0) that is at least a: sizes and offsets rounded to lanes or cache lines. */
// @ts-ignore: decorator
@inline export function roundUp(a: i32, b: i32): i32 {
  return (a + b - 1) / b * b;
}

export function zeroFloats(dst: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), z);
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), 0);
}

export function copyFloats(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

/** The first n (up to 4) lanes of v at dst. */
// @ts-ignore: decorator
@inline export function storeLanes(dst: usize, v: v128, n: i32): void {
  if (n >= 4) { v128.store(dst, v); return; }
  if (n > 0) store<f32>(dst, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(dst, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(dst, f32x4.extract_lane(v, 2), 8);
}

/**
 * 4 tiles' rows of 4 outputs (lanes are the tiles, y_j column j), transposed into 16 contiguous
 * floats at dst, the first `cols` of them.
 */
// @ts-ignore: decorator
@inline export function storeRow4(dst: usize, y0: v128, y1: v128, y2: v128, y3: v128, cols: i32): void {
  const u0 = v128.shuffle<f32>(y0, y1, 0, 4, 1, 5), u1 = v128.shuffle<f32>(y0, y1, 2, 6, 3, 7);
  const u2 = v128.shuffle<f32>(y2, y3, 0, 4, 1, 5), u3 = v128.shuffle<f32>(y2, y3, 2, 6, 3, 7);
  const r0 = v128.shuffle<f32>(u0, u2, 0, 1, 4, 5), r1 = v128.shuffle<f32>(u0, u2, 2, 3, 6, 7);
  const r2 = v128.shuffle<f32>(u1, u3, 0, 1, 4, 5), r3 = v128.shuffle<f32>(u1, u3, 2, 3, 6, 7);
  if (cols >= 16) {
    v128.store(dst, r0); v128.store(dst, r1, 16); v128.store(dst, r2, 32); v128.store(dst, r3, 48);
    return;
  }
  storeLanes(dst, r0, cols);
  storeLanes(dst + 16, r1, cols - 4);
  storeLanes(dst + 32, r2, cols - 8);
  storeLanes(dst + 48, r3, cols - 12);
}

/**
 * The 4x4 block whose rows are a, b, c, d, transposed: its columns at o, o + step, o + 2*step,
 * o + 3*step (bytes; phase planes' B panels, depthwise lanes' pixel vectors back to planes).
 */
// @ts-ignore: decorator
@inline export function storeTransposed4Strided(o: usize, step: usize, a: v128, b: v128, c: v128, d: v128): void {
  const t0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), t1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(c, d, 0, 4, 1, 5), t3 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
  v128.store(o, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(o + step, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(o + 2 * step, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(o + 3 * step, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

/** The 4x4 block whose rows are a, b, c, d, transposed: its columns as 16 contiguous floats at o. */
// @ts-ignore: decorator
@inline export function storeTransposed4(o: usize, a: v128, b: v128, c: v128, d: v128): void {
  const t0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), t1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(c, d, 0, 4, 1, 5), t3 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
  v128.store(o, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(o, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 16);
  v128.store(o, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 32);
  v128.store(o, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 48);
}
