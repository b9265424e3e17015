// The negative log-likelihood loss per target position and its gradient
// (src/backend/js/losses.ts): x is [N, C, inner], targets int32 [N, inner], already validated by
// the op (a class index or ignoreIndex). A task is a run of samples.
import { arg } from './job';
import { zeroFloats } from './mem';

export const NL_X = 0, NL_T = 1, NL_W = 2, NL_IGN = 3, NL_OUT = 4, NL_C = 5, NL_INNER = 6, NL_SPT = 7, NL_N = 8, NL_GRAD = 9, NL_DY = 10;

/**
 * Forward: out[s, i] = -weight[t] * x[s, t, i] (0 where t == ignoreIndex). Gradient: dx zero but
 * dx[s, t, i] = -weight[t] * dy[s, i]. (-w) * v is one float32 rounding of an exact product, as the
 * reference's float64 product rounded to float32.
 */
export function nllTask(job: usize, t: i32): void {
  const C = arg(job, NL_C), inner = arg(job, NL_INNER), spt = arg(job, NL_SPT), ign = arg(job, NL_IGN);
  const grad = arg(job, NL_GRAD) != 0;
  const x = <usize>arg(job, NL_X), tg = <usize>arg(job, NL_T), w = <usize>arg(job, NL_W), out = <usize>arg(job, NL_OUT), dy = <usize>arg(job, NL_DY);
  const s0 = t * spt, s1 = min(arg(job, NL_N), s0 + spt);
  for (let s = s0; s < s1; s++) {
    if (grad) zeroFloats(out + (<usize>s * <usize>C * <usize>inner << 2), C * inner);
    for (let i = 0; i < inner; i++) {
      const k = <usize>s * <usize>inner + <usize>i;
      const c = load<i32>(tg + (k << 2));
      if (c == ign) {
        if (!grad) store<f32>(out + (k << 2), 0);
        continue;
      }
      const nw: f32 = w ? -load<f32>(w + (<usize>c << 2)) : -1;
      const at = ((<usize>s * <usize>C + <usize>c) * <usize>inner + <usize>i) << 2;
      if (grad) store<f32>(out + at, nw * load<f32>(dy + (k << 2)));
      else store<f32>(out + (k << 2), nw * load<f32>(x + at));
    }
  }
}
