// The multiclass SVM loss per sample and its gradient (src/backend/js/losses.ts), x [N, C].
// A task is a run of samples (rows). The arithmetic is the reference's, in float64 with the
// same roundings to float32, so the results are its bits.
import { arg, argf64 } from './job';

export const MM_X = 0, MM_T = 1, MM_DY = 2, MM_OUT = 3, MM_W = 4, MM_N = 5, MM_C = 6, MM_P = 7, MM_RPT = 8, MM_MARGIN = 10;

/** loss[n] = weight[y] sum over i != y of max(0, margin - x[y] + x[i])^p / C (W = 0: no weight). */
export function multiMarginTask(job: usize, t: i32): void {
  const N = arg(job, MM_N), C = arg(job, MM_C), p = arg(job, MM_P), rpt = arg(job, MM_RPT);
  const x = <usize>arg(job, MM_X), tg = <usize>arg(job, MM_T), out = <usize>arg(job, MM_OUT), w = <usize>arg(job, MM_W);
  const margin = argf64(job, MM_MARGIN);
  const s0 = t * rpt, s1 = min(N, s0 + rpt);
  for (let s = s0; s < s1; s++) {
    const y = load<i32>(tg + (<usize>s << 2));
    const row = x + (<usize>(s * C) << 2);
    const xy = <f64>load<f32>(row + (<usize>y << 2));
    let sum: f64 = 0;
    for (let i = 0; i < C; i++) {
      if (i == y) continue;
      const z = margin - xy + <f64>load<f32>(row + (<usize>i << 2));
      if (z > 0) sum += p == 1 ? z : z * z;
    }
    const wy: f64 = w ? <f64>load<f32>(w + (<usize>y << 2)) : 1;
    store<f32>(out + (<usize>s << 2), <f32>((sum * wy) / <f64>C));
  }
}

/** dx: each active margin adds scale (p 1) or 2 scale z (p 2) to x[i] and takes it from x[y]. */
export function multiMarginGradTask(job: usize, t: i32): void {
  const N = arg(job, MM_N), C = arg(job, MM_C), p = arg(job, MM_P), rpt = arg(job, MM_RPT);
  const x = <usize>arg(job, MM_X), tg = <usize>arg(job, MM_T), dy = <usize>arg(job, MM_DY), out = <usize>arg(job, MM_OUT);
  const w = <usize>arg(job, MM_W);
  const margin = argf64(job, MM_MARGIN);
  const s0 = t * rpt, s1 = min(N, s0 + rpt);
  for (let s = s0; s < s1; s++) {
    const y = load<i32>(tg + (<usize>s << 2));
    const row = x + (<usize>(s * C) << 2);
    const drow = out + (<usize>(s * C) << 2);
    const xy = <f64>load<f32>(row + (<usize>y << 2));
    const wy: f64 = w ? <f64>load<f32>(w + (<usize>y << 2)) : 1;
    const scale = (<f64>load<f32>(dy + (<usize>s << 2)) * wy) / <f64>C;
    for (let i = 0; i < C; i++) store<f32>(drow + (<usize>i << 2), 0);
    const ay = drow + (<usize>y << 2);
    for (let i = 0; i < C; i++) {
      if (i == y) continue;
      const z = margin - xy + <f64>load<f32>(row + (<usize>i << 2));
      if (z > 0) {
        const d = scale * (p == 1 ? 1 : 2 * z);
        const a = drow + (<usize>i << 2);
        store<f32>(a, <f32>(<f64>load<f32>(a) + d));
        store<f32>(ay, <f32>(<f64>load<f32>(ay) - d));
      }
    }
  }
}
