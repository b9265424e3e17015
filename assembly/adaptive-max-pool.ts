// Adaptive max pooling with switches (src/backend/js/pool2d.ts adaptiveMaxPool2D): output
// (i, j) is the max over rows [RLO[i], RHI[i]) and columns [CLO[j], CHI[j]) of its plane, the
// first maximum in row-major order, or the last NaN (a NaN is taken whenever met, and nothing
// beats a NaN). Its gradient is the max-pooling one (pool.ts). A task is a run of planes.
import { arg } from './job';

export const AMP_X = 0, AMP_OUT = 1, AMP_IDX = 2, AMP_TAB = 3, AMP_H = 4, AMP_W = 5, AMP_OH = 6, AMP_OW = 7, AMP_PPT = 8, AMP_PLANES = 9;

// TAB: RLO[OH], RHI[OH], CLO[OW], CHI[OW] (int32).

export function adaptiveMaxPoolTask(job: usize, t: i32): void {
  const H = arg(job, AMP_H), W = arg(job, AMP_W), OH = arg(job, AMP_OH), OW = arg(job, AMP_OW), ppt = arg(job, AMP_PPT);
  const tab = <usize>arg(job, AMP_TAB);
  const rlo = tab, rhi = tab + (<usize>OH << 2), clo = tab + (<usize>(2 * OH) << 2), chi = clo + (<usize>OW << 2);
  const p0 = t * ppt, p1 = min(arg(job, AMP_PLANES), p0 + ppt);
  for (let p = p0; p < p1; p++) {
    const x = <usize>arg(job, AMP_X) + (<usize>(p * H * W) << 2);
    const o = <usize>(p * OH * OW) << 2;
    const out = <usize>arg(job, AMP_OUT) + o, idx = <usize>arg(job, AMP_IDX) + o;
    for (let i = 0; i < OH; i++) {
      const r0 = load<i32>(rlo + (<usize>i << 2)), r1 = load<i32>(rhi + (<usize>i << 2));
      for (let j = 0; j < OW; j++) {
        const c0 = load<i32>(clo + (<usize>j << 2)), c1 = load<i32>(chi + (<usize>j << 2));
        let best: f32 = -Infinity;
        let am = -1;
        for (let r = r0; r < r1; r++) {
          const row = x + (<usize>(r * W) << 2);
          for (let c = c0; c < c1; c++) {
            const v = load<f32>(row + (<usize>c << 2));
            if (am < 0 || v > best || v != v) { best = v; am = r * W + c; }
          }
        }
        const q = <usize>(i * OW + j) << 2;
        store<f32>(out + q, best);
        store<i32>(idx + q, am);
      }
    }
  }
}
