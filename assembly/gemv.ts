// y = A W^T for few rows of A (M < 4), the fully-connected layer at batch 1: W [N, K] is
// read once, row by row, with no packing (the packed GEMM would spend more time packing W
// than multiplying). One task is a range of N; four rows of W share each load of A.
import { madd } from './madd';
import { arg } from './job';
import { EP_BIAS_COL, EP_RELU } from './kernel';
import { G_A, G_ACS, G_ARS, G_B, G_BIAS, G_BRS, G_C, G_FLAGS, G_K, G_LDC, G_M, G_N, G_TILEM, G_TILEN, G_TILESN } from './gemm';

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

function dot(a: usize, w: usize, k: i32): f32 {
  let acc = f32x4.splat(0);
  let p = 0;
  for (; p + 4 <= k; p += 4) acc = madd(v128.load(a + (<usize>p << 2)), v128.load(w + (<usize>p << 2)), acc);
  let s = hsum(acc);
  for (; p < k; p++) s += load<f32>(a + (<usize>p << 2)) * load<f32>(w + (<usize>p << 2));
  return s;
}

export function gemvTask(job: usize, t: i32): void {
  const M = arg(job, G_M), N = arg(job, G_N), K = arg(job, G_K);
  const a = <usize>arg(job, G_A), w = <usize>arg(job, G_B), c = <usize>arg(job, G_C), ldc = arg(job, G_LDC);
  const flags = arg(job, G_FLAGS), bias = <usize>arg(job, G_BIAS);
  const n0 = t * arg(job, G_TILEN), n1 = min(N, n0 + arg(job, G_TILEN));
  const rowBytes = <usize>K << 2;
  for (let m = 0; m < M; m++) {
    const am = a + <usize>m * rowBytes;
    const cm = c + (<usize>(m * ldc) << 2);
    let n = n0;
    for (; n + 4 <= n1; n += 4) {
      const w0 = w + <usize>n * rowBytes, w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
      let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
      let p = 0;
      for (; p + 4 <= K; p += 4) {
        const o = <usize>p << 2;
        const x = v128.load(am + o);
        s0 = madd(x, v128.load(w0 + o), s0);
        s1 = madd(x, v128.load(w1 + o), s1);
        s2 = madd(x, v128.load(w2 + o), s2);
        s3 = madd(x, v128.load(w3 + o), s3);
      }
      let r0 = hsum(s0), r1 = hsum(s1), r2 = hsum(s2), r3 = hsum(s3);
      for (; p < K; p++) {
        const o = <usize>p << 2;
        const x = load<f32>(am + o);
        r0 += x * load<f32>(w0 + o); r1 += x * load<f32>(w1 + o); r2 += x * load<f32>(w2 + o); r3 += x * load<f32>(w3 + o);
      }
      store<f32>(cm + (<usize>n << 2), r0); store<f32>(cm + (<usize>n << 2), r1, 4);
      store<f32>(cm + (<usize>n << 2), r2, 8); store<f32>(cm + (<usize>n << 2), r3, 12);
    }
    for (; n < n1; n++) store<f32>(cm + (<usize>n << 2), dot(am, w + <usize>n * rowBytes, K));
    for (n = n0; n < n1; n++) {
      const d = cm + (<usize>n << 2);
      let v = load<f32>(d);
      if (flags & EP_BIAS_COL) v += load<f32>(bias + (<usize>n << 2));
      if (flags & EP_RELU) v = v > 0 ? v : 0;
      store<f32>(d, v);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Small products (fully-connected layers of small networks, their gradients): M, N or K is
// too small for the packed GEMM's blocking to pay for its packing. No packing; every output
// sums over p in order (so the result never depends on the task split), then the bias and
// ReLU epilogue as the GEMM's (bias after the sum).
// ---------------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function epilogue(v: v128, flags: i32, bias: usize, j: i32): v128 {
  let r = v;
  if (flags & EP_BIAS_COL) r = f32x4.add(r, v128.load(bias + (<usize>j << 2)));
  if (flags & EP_RELU) r = f32x4.pmax(f32x4.splat(0), r);
  return r;
}

// @ts-ignore: decorator
@inline function epilogue1(v: f32, flags: i32, bias: usize, j: i32): f32 {
  let r = v;
  if (flags & EP_BIAS_COL) r += load<f32>(bias + (<usize>j << 2));
  if (flags & EP_RELU) r = r > 0 ? r : 0;
  return r;
}

/** Rows [i0, i0 + rows) (rows 1..4) of C = A B over columns [j0, j1), B's rows contiguous. */
function rowsAxpy(
  a: usize, ars: i32, acs: i32, b: usize, ldb: i32, c: usize, ldc: i32, K: i32,
  i0: i32, rows: i32, j0: i32, j1: i32, flags: i32, bias: usize,
): void {
  const r1 = rows > 1 ? 1 : 0, r2 = rows > 2 ? 2 : 0, r3 = rows > 3 ? 3 : 0;
  const a0 = a + (<usize>(i0 * ars) << 2), a1 = a + (<usize>((i0 + r1) * ars) << 2);
  const a2 = a + (<usize>((i0 + r2) * ars) << 2), a3 = a + (<usize>((i0 + r3) * ars) << 2);
  const c0 = c + (<usize>(i0 * ldc) << 2), c1 = c + (<usize>((i0 + r1) * ldc) << 2);
  const c2 = c + (<usize>((i0 + r2) * ldc) << 2), c3 = c + (<usize>((i0 + r3) * ldc) << 2);
  const astep = <usize>acs << 2, bstep = <usize>ldb << 2;
  let j = j0;
  // Eight columns of four rows: eight accumulators, two loads of B and four of A per step.
  for (; j + 8 <= j1; j += 8) {
    let s00 = f32x4.splat(0), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
    let pb = b + (<usize>j << 2), pa = <usize>0;
    for (let p = 0; p < K; p++) {
      const b0 = v128.load(pb), b1 = v128.load(pb, 16);
      let x = v128.load32_splat(a0 + pa);
      s00 = madd(x, b0, s00); s01 = madd(x, b1, s01);
      x = v128.load32_splat(a1 + pa);
      s10 = madd(x, b0, s10); s11 = madd(x, b1, s11);
      x = v128.load32_splat(a2 + pa);
      s20 = madd(x, b0, s20); s21 = madd(x, b1, s21);
      x = v128.load32_splat(a3 + pa);
      s30 = madd(x, b0, s30); s31 = madd(x, b1, s31);
      pb += bstep; pa += astep;
    }
    const o = <usize>j << 2;
    // Rows past `rows` repeat the last row's address: stored in reverse order, the real row wins.
    v128.store(c3 + o, epilogue(s30, flags, bias, j)); v128.store(c3 + o, epilogue(s31, flags, bias, j + 4), 16);
    v128.store(c2 + o, epilogue(s20, flags, bias, j)); v128.store(c2 + o, epilogue(s21, flags, bias, j + 4), 16);
    v128.store(c1 + o, epilogue(s10, flags, bias, j)); v128.store(c1 + o, epilogue(s11, flags, bias, j + 4), 16);
    v128.store(c0 + o, epilogue(s00, flags, bias, j)); v128.store(c0 + o, epilogue(s01, flags, bias, j + 4), 16);
  }
  for (; j + 4 <= j1; j += 4) {
    let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
    let pb = b + (<usize>j << 2), pa = <usize>0;
    for (let p = 0; p < K; p++) {
      const b0 = v128.load(pb);
      s0 = madd(v128.load32_splat(a0 + pa), b0, s0);
      s1 = madd(v128.load32_splat(a1 + pa), b0, s1);
      s2 = madd(v128.load32_splat(a2 + pa), b0, s2);
      s3 = madd(v128.load32_splat(a3 + pa), b0, s3);
      pb += bstep; pa += astep;
    }
    const o = <usize>j << 2;
    v128.store(c3 + o, epilogue(s3, flags, bias, j));
    v128.store(c2 + o, epilogue(s2, flags, bias, j));
    v128.store(c1 + o, epilogue(s1, flags, bias, j));
    v128.store(c0 + o, epilogue(s0, flags, bias, j));
  }
  for (; j < j1; j++) {
    for (let r = rows - 1; r >= 0; r--) {
      const ar = a + (<usize>((i0 + r) * ars) << 2);
      let s: f32 = 0;
      let pb = b + (<usize>j << 2), pa = <usize>0;
      // Accumulated as the SIMD lanes do (madd: fused where the build has FMA).
      for (let p = 0; p < K; p++) {
        s = f32x4.extract_lane(madd(f32x4.splat(load<f32>(ar + pa)), f32x4.splat(load<f32>(pb)), f32x4.splat(s)), 0);
        pb += bstep; pa += astep;
      }
      store<f32>(c + (<usize>((i0 + r) * ldc + j) << 2), epilogue1(s, flags, bias, j));
    }
  }
}

/**
 * C[M, N] = A B (+ bias per column, ReLU) with A(i, p) at a + i*ars + p*acs and B's row p
 * contiguous at b + p*brs: outer products, no packing. Task t is a tile of TILEM rows (a
 * multiple of 4) by TILEN columns (a multiple of 8), TILESN tiles across.
 */
export function smallMatmulTask(job: usize, t: i32): void {
  const M = arg(job, G_M), N = arg(job, G_N), K = arg(job, G_K);
  const a = <usize>arg(job, G_A), ars = arg(job, G_ARS), acs = arg(job, G_ACS);
  const b = <usize>arg(job, G_B), ldb = arg(job, G_BRS), c = <usize>arg(job, G_C), ldc = arg(job, G_LDC);
  const flags = arg(job, G_FLAGS), bias = <usize>arg(job, G_BIAS);
  const tileM = arg(job, G_TILEM), tileN = arg(job, G_TILEN), tilesN = arg(job, G_TILESN);
  const tm = t / tilesN, tn = t - tm * tilesN;
  const i1 = min(M, (tm + 1) * tileM), j0 = tn * tileN, j1 = min(N, j0 + tileN);
  for (let i = tm * tileM; i < i1; i += 4) rowsAxpy(a, ars, acs, b, ldb, c, ldc, K, i, min(4, i1 - i), j0, j1, flags, bias);
}

/** Two rows of A against four rows of W (dot products over K), eight sums. */
function dots2x4(a0: usize, a1: usize, w0: usize, wstep: usize, K: i32, o0: usize, o1: usize): void {
  const w1 = w0 + wstep, w2 = w1 + wstep, w3 = w2 + wstep;
  let s00 = f32x4.splat(0), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
  let p = 0;
  for (; p + 4 <= K; p += 4) {
    const o = <usize>p << 2;
    const x0 = v128.load(a0 + o), x1 = v128.load(a1 + o);
    let w = v128.load(w0 + o);
    s00 = madd(x0, w, s00); s10 = madd(x1, w, s10);
    w = v128.load(w1 + o);
    s01 = madd(x0, w, s01); s11 = madd(x1, w, s11);
    w = v128.load(w2 + o);
    s02 = madd(x0, w, s02); s12 = madd(x1, w, s12);
    w = v128.load(w3 + o);
    s03 = madd(x0, w, s03); s13 = madd(x1, w, s13);
  }
  let r00 = hsum(s00), r01 = hsum(s01), r02 = hsum(s02), r03 = hsum(s03);
  let r10 = hsum(s10), r11 = hsum(s11), r12 = hsum(s12), r13 = hsum(s13);
  for (; p < K; p++) {
    const o = <usize>p << 2;
    const x0 = load<f32>(a0 + o), x1 = load<f32>(a1 + o);
    const v0 = load<f32>(w0 + o), v1 = load<f32>(w1 + o), v2 = load<f32>(w2 + o), v3 = load<f32>(w3 + o);
    r00 += x0 * v0; r01 += x0 * v1; r02 += x0 * v2; r03 += x0 * v3;
    r10 += x1 * v0; r11 += x1 * v1; r12 += x1 * v2; r13 += x1 * v3;
  }
  store<f32>(o0, r00); store<f32>(o0, r01, 4); store<f32>(o0, r02, 8); store<f32>(o0, r03, 12);
  store<f32>(o1, r10); store<f32>(o1, r11, 4); store<f32>(o1, r12, 8); store<f32>(o1, r13, 12);
}

/**
 * C[M, N] = A W^T (+ bias, ReLU) with A [M, K] and W [N, K] both row-major: dot products,
 * two rows of A by four of W at a time (the single row and column remainders as gemvTask
 * sums them). Task t is a tile of TILEM rows (even) by TILEN columns (a multiple of 4).
 */
export function smallDotTask(job: usize, t: i32): void {
  const M = arg(job, G_M), N = arg(job, G_N), K = arg(job, G_K);
  const a = <usize>arg(job, G_A), w = <usize>arg(job, G_B), c = <usize>arg(job, G_C), ldc = arg(job, G_LDC);
  const flags = arg(job, G_FLAGS), bias = <usize>arg(job, G_BIAS);
  const tileM = arg(job, G_TILEM), tileN = arg(job, G_TILEN), tilesN = arg(job, G_TILESN);
  const tm = t / tilesN, tn = t - tm * tilesN;
  const i0 = tm * tileM, i1 = min(M, i0 + tileM), n0 = tn * tileN, n1 = min(N, n0 + tileN);
  const rowBytes = <usize>K << 2;
  let i = i0;
  for (; i + 2 <= i1; i += 2) {
    const a0 = a + <usize>i * rowBytes, a1 = a0 + rowBytes;
    const c0 = c + (<usize>(i * ldc) << 2), c1 = c0 + (<usize>ldc << 2);
    let n = n0;
    for (; n + 4 <= n1; n += 4) {
      dots2x4(a0, a1, w + <usize>n * rowBytes, rowBytes, K, c0 + (<usize>n << 2), c1 + (<usize>n << 2));
    }
    for (; n < n1; n++) {
      store<f32>(c0 + (<usize>n << 2), dot(a0, w + <usize>n * rowBytes, K));
      store<f32>(c1 + (<usize>n << 2), dot(a1, w + <usize>n * rowBytes, K));
    }
  }
  for (; i < i1; i++) {
    const ai = a + <usize>i * rowBytes, ci = c + (<usize>(i * ldc) << 2);
    for (let n = n0; n < n1; n++) store<f32>(ci + (<usize>n << 2), dot(ai, w + <usize>n * rowBytes, K));
  }
  for (let r = i0; r < i1; r++) {
    const ci = c + (<usize>(r * ldc) << 2);
    for (let n = n0; n < n1; n++) store<f32>(ci + (<usize>n << 2), epilogue1(load<f32>(ci + (<usize>n << 2)), flags, bias, n));
  }
}
