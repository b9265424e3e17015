// Pad2D and its gradient (src/backend/js/pad2d.ts): every mode is a map from each padded row
// and column to the input row and column it reads (-1: the constant fill), computed by the
// caller. Along a row the columns [J0, J1) read the input columns j - SHIFT in order, so they
// copy (or, in the gradient, add) in SIMD; the columns outside that run go through the map.
// A task is a run of planes, so tasks never write the same element. The gradient sums each
// input pixel's contributions in the reference's order (padded rows, then columns, ascending),
// so its float32 results are the reference's bits.
import { arg, argf } from './job';
import { copyFloats, zeroFloats } from './mem';

export const PD_X = 0, PD_OUT = 1, PD_ROWS = 2, PD_COLS = 3, PD_H = 4, PD_W = 5, PD_OH = 6, PD_OW = 7;
export const PD_J0 = 8, PD_J1 = 9, PD_SHIFT = 10, PD_VALUE = 11, PD_PPT = 12, PD_PLANES = 13;

export function padTask(job: usize, t: i32): void {
  const H = arg(job, PD_H), W = arg(job, PD_W), OH = arg(job, PD_OH), OW = arg(job, PD_OW);
  const j0 = arg(job, PD_J0), j1 = arg(job, PD_J1), shift = arg(job, PD_SHIFT), ppt = arg(job, PD_PPT);
  const rows = <usize>arg(job, PD_ROWS), cols = <usize>arg(job, PD_COLS);
  const value = argf(job, PD_VALUE);
  const fill = f32x4.splat(value);
  const p0 = t * ppt, p1 = min(arg(job, PD_PLANES), p0 + ppt);
  for (let p = p0; p < p1; p++) {
    const src = <usize>arg(job, PD_X) + (<usize>(p * H * W) << 2);
    const dst = <usize>arg(job, PD_OUT) + (<usize>(p * OH * OW) << 2);
    for (let i = 0; i < OH; i++) {
      const r = load<i32>(rows + (<usize>i << 2));
      const d = dst + (<usize>(i * OW) << 2);
      if (r < 0) {
        let j = 0;
        for (; j + 4 <= OW; j += 4) v128.store(d + (<usize>j << 2), fill);
        for (; j < OW; j++) store<f32>(d + (<usize>j << 2), value);
        continue;
      }
      const s = src + (<usize>(r * W) << 2);
      for (let j = 0; j < j0; j++) {
        const c = load<i32>(cols + (<usize>j << 2));
        store<f32>(d + (<usize>j << 2), c < 0 ? value : load<f32>(s + (<usize>c << 2)));
      }
      copyFloats(d + (<usize>j0 << 2), s + (<usize>(j0 - shift) << 2), j1 - j0);
      for (let j = j1; j < OW; j++) {
        const c = load<i32>(cols + (<usize>j << 2));
        store<f32>(d + (<usize>j << 2), c < 0 ? value : load<f32>(s + (<usize>c << 2)));
      }
    }
  }
}

/** dx (H x W planes at PD_OUT) = the sum of dy (OH x OW planes at PD_X) through the maps. */
export function padGradTask(job: usize, t: i32): void {
  const H = arg(job, PD_H), W = arg(job, PD_W), OH = arg(job, PD_OH), OW = arg(job, PD_OW);
  const j0 = arg(job, PD_J0), j1 = arg(job, PD_J1), shift = arg(job, PD_SHIFT), ppt = arg(job, PD_PPT);
  const rows = <usize>arg(job, PD_ROWS), cols = <usize>arg(job, PD_COLS);
  const p0 = t * ppt, p1 = min(arg(job, PD_PLANES), p0 + ppt);
  for (let p = p0; p < p1; p++) {
    const src = <usize>arg(job, PD_X) + (<usize>(p * OH * OW) << 2);
    const dst = <usize>arg(job, PD_OUT) + (<usize>(p * H * W) << 2);
    zeroFloats(dst, H * W);
    for (let i = 0; i < OH; i++) {
      const r = load<i32>(rows + (<usize>i << 2));
      if (r < 0) continue;
      const g = src + (<usize>(i * OW) << 2);
      const d = dst + (<usize>(r * W) << 2);
      for (let j = 0; j < j0; j++) {
        const c = load<i32>(cols + (<usize>j << 2));
        if (c >= 0) { const a = d + (<usize>c << 2); store<f32>(a, load<f32>(a) + load<f32>(g + (<usize>j << 2))); }
      }
      const dm = d + (<usize>(j0 - shift) << 2), gm = g + (<usize>j0 << 2);
      const n = j1 - j0;
      let j = 0;
      for (; j + 4 <= n; j += 4) {
        const o = <usize>j << 2;
        v128.store(dm + o, f32x4.add(v128.load(dm + o), v128.load(gm + o)));
      }
      for (; j < n; j++) {
        const o = <usize>j << 2;
        store<f32>(dm + o, load<f32>(dm + o) + load<f32>(gm + o));
      }
      for (let j = j1; j < OW; j++) {
        const c = load<i32>(cols + (<usize>j << 2));
        if (c >= 0) { const a = d + (<usize>c << 2); store<f32>(a, load<f32>(a) + load<f32>(g + (<usize>j << 2))); }
      }
    }
  }
}
