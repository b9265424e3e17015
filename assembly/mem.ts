// Short copies and fills as plain loops. V8 runs memory.copy / memory.fill through a call
// into the runtime (tens of nanoseconds each), which dominated kernels that move many short
// rows (im2col rows of 28 floats, partial tiles of the micro-kernel, slab rows).

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
