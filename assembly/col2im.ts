// col2im, the adjoint of im2col, for the input gradient of strided convolutions: every column
// entry is added back onto the pixel it was read from. One task is one (image, channel) plane,
// so tasks never write the same pixel and need no locks.
import { zeroFloats } from './mem';
import { arg, scratch } from './job';

export const C_COLS = 0, C_DX = 1, C_NPLANES = 2; // planes = images * channels (per group run)
export const C_GEO = 3; // c h w kh kw sh sw pt pl dh dw oh ow
/**
 * Layout of the column matrix: image n's channel ch starts at n*C_IMGS + ch*kh*kw*C_RS floats,
 * each tap's row C_RS floats after the last: per image [c*kh*kw][oh*ow] (C_IMGS = c*kh*kw*oh*ow,
 * C_RS = oh*ow), or one matrix over the batch [c*kh*kw][images*oh*ow] (C_IMGS = oh*ow,
 * C_RS = images*oh*ow) as the batched GEMM writes it.
 */
export const C_IMGS = 16, C_RS = 17;

export function col2imTask(job: usize, t: i32, tid: i32): void {
  const c = arg(job, C_GEO), h = arg(job, C_GEO + 1), w = arg(job, C_GEO + 2);
  const kh = arg(job, C_GEO + 3), kw = arg(job, C_GEO + 4), sh = arg(job, C_GEO + 5), sw = arg(job, C_GEO + 6);
  const pt = arg(job, C_GEO + 7), pl = arg(job, C_GEO + 8), dh = arg(job, C_GEO + 9), dw = arg(job, C_GEO + 10);
  const oh = arg(job, C_GEO + 11), ow = arg(job, C_GEO + 12);
  const n = t / c, ch = t - n * c;
  const rs = arg(job, C_RS);
  // dx planes are [n][c][h][w] with c channels per image.
  const cols = <usize>arg(job, C_COLS) + ((<usize>n * <usize>arg(job, C_IMGS) + <usize>(ch * kh * kw) * <usize>rs) << 2);
  const dx = <usize>arg(job, C_DX) + (<usize>((n * c + ch) * h * w) << 2);
  zeroFloats(dx, h * w);
  let row = cols;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let oy = 0; oy < oh; oy++) {
        const y = oy * sh - pt + i * dh;
        if (y < 0 || y >= h) continue;
        const src = row + (<usize>(oy * ow) << 2);
        const dst = dx + (<usize>(y * w) << 2);
        for (let ox = 0; ox < ow; ox++) {
          const xx = ox * sw - pl + j * dw;
          if (xx >= 0 && xx < w) {
            const d = dst + (<usize>xx << 2);
            store<f32>(d, load<f32>(d) + load<f32>(src + (<usize>ox << 2)));
          }
        }
      }
      row += <usize>rs << 2;
    }
  }
}

/**
 * col2im through phase planes (phase.ts), for strides > 1: every tap's row of the column matrix
 * is added onto a contiguous window of one phase plane (SIMD rows, no bounds checks), in this
 * thread's scratch; the planes are then interleaved back into the dx plane. The additions
 * onto each pixel come in the same order as in col2imTask (same bits).
 */
export function col2imPhaseTask(job: usize, t: i32, tid: i32): void {
  const c = arg(job, C_GEO), h = arg(job, C_GEO + 1), w = arg(job, C_GEO + 2);
  const kh = arg(job, C_GEO + 3), kw = arg(job, C_GEO + 4), sh = arg(job, C_GEO + 5), sw = arg(job, C_GEO + 6);
  const pt = arg(job, C_GEO + 7), pl = arg(job, C_GEO + 8), dh = arg(job, C_GEO + 9), dw = arg(job, C_GEO + 10);
  const oh = arg(job, C_GEO + 11), ow = arg(job, C_GEO + 12);
  const na = min(sh, (kh - 1) * dh + 1), nb = min(sw, (kw - 1) * dw + 1);
  const ph = oh + (kh - 1) * dh / sh, pw = ow + (kw - 1) * dw / sw;
  const n = t / c, ch = t - n * c;
  const rs = arg(job, C_RS);
  let tap = <usize>arg(job, C_COLS) + ((<usize>n * <usize>arg(job, C_IMGS) + <usize>(ch * kh * kw) * <usize>rs) << 2);
  const dx = <usize>arg(job, C_DX) + (<usize>((n * c + ch) * h * w) << 2);
  // Kernel within the stride and no dilation gaps (1x1 stride s, patches): every pixel gets
  // at most one tap, and the column matrix rows are the phase planes themselves (rs floats
  // apart): nothing to add up, the interleave below reads them in place.
  const inPlace = na == kh && nb == kw && ph == oh && pw == ow && (kh == 1 || dh == 1) && (kw == 1 || dw == 1);
  const planes = inPlace ? tap : scratch(job, tid);
  const pp = inPlace ? rs : ph * pw;
  if (!inPlace) zeroFloats(planes, na * nb * pp);
  const rowsToAdd = inPlace ? 0 : kh;
  for (let i = 0; i < rowsToAdd; i++) {
    const ry = i * dh, a = ry % sh, u0 = ry / sh;
    for (let j = 0; j < kw; j++) {
      const rx = j * dw, b = rx % sw, v0 = rx / sw;
      let dst = planes + (<usize>((a * nb + b) * pp + u0 * pw + v0) << 2);
      let row = tap;
      tap += <usize>rs << 2;
      for (let oy = 0; oy < oh; oy++) {
        let x = 0;
        for (; x + 4 <= ow; x += 4) {
          const p = dst + (<usize>x << 2);
          v128.store(p, f32x4.add(v128.load(p), v128.load(row + (<usize>x << 2))));
        }
        for (; x < ow; x++) {
          const p = dst + (<usize>x << 2);
          store<f32>(p, load<f32>(p) + load<f32>(row + (<usize>x << 2)));
        }
        dst += <usize>pw << 2;
        row += <usize>ow << 2;
      }
    }
  }
  // dx[y][x] = planes[(y+pt) % sh][(x+pl) % sw][(y+pt) / sh][(x+pl) / sw], zero where no tap reached.
  for (let y = 0; y < h; y++) {
    const d = dx + (<usize>(y * w) << 2);
    const yy = y + pt;
    const a = yy >= 0 ? yy % sh : 0, u = yy >= 0 ? yy / sh : 0;
    if (yy < 0 || a >= na || u >= ph) { zeroFloats(d, w); continue; }
    const src = planes + (<usize>((a * nb) * pp + u * pw) << 2);
    let x = 0;
    if (x < w && x + pl < 0) { const z = min(w, -pl) - x; zeroFloats(d + (<usize>x << 2), z); x += z; }
    if (sw == 2 && x < w) {
      // Stride 2: pixel pairs (x, x+1) with x + pl even come from phases 0 and 1 (zeros where
      // the kernel is 1 wide) at the same plane column; an odd x + pl first takes one pixel.
      if ((x + pl) & 1) {
        const vv = (x + pl) >> 1;
        store<f32>(d + (<usize>x << 2), nb > 1 && vv < pw ? load<f32>(src + (<usize>(pp + vv) << 2)) : 0);
        x++;
      }
      const s1 = src + (<usize>pp << 2);
      for (; x + 8 <= w && ((x + pl) >> 1) + 4 <= pw; x += 8) {
        const v = <usize>((x + pl) >> 1) << 2;
        const e = v128.load(src + v), o = nb > 1 ? v128.load(s1 + v) : f32x4.splat(0);
        v128.store(d + (<usize>x << 2), v128.shuffle<f32>(e, o, 0, 4, 1, 5));
        v128.store(d + (<usize>x << 2), v128.shuffle<f32>(e, o, 2, 6, 3, 7), 16);
      }
    }
    if (x < w) {
      // Phase b and plane column vv of pixel x, stepped without divisions.
      let b = (x + pl) % sw, vv = (x + pl) / sw;
      for (; x < w; x++) {
        store<f32>(d + (<usize>x << 2), b < nb && vv < pw ? load<f32>(src + (<usize>(b * pp + vv) << 2)) : 0);
        if (++b == sw) { b = 0; vv++; }
      }
    }
  }
}
