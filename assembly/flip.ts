// The flipped filters of a stride-1 input gradient (a forward convolution of dy with them):
// W [G][KG][CG][taps] -> W' [G][CG][KG][taps], in and out channels swapped per group, taps in
// reverse order (the filter rotated 180 degrees). In wasm rather than js: on many-channel
// layers of small images the copy cost as much as the convolution. A task is a block of
// FLIP_ROWS filters of one group: it reads them in order and scatters each (filter, channel)
// tap set.
import { arg } from './job';

export const FL_SRC = 0, FL_DST = 1, FL_KG = 2, FL_CG = 3, FL_TAPS = 4, FL_ROWS = 5;

export function flipTask(job: usize, t: i32): void {
  const KG = arg(job, FL_KG), CG = arg(job, FL_CG), taps = arg(job, FL_TAPS), rows = arg(job, FL_ROWS);
  const blocks = (KG + rows - 1) / rows;
  const g = t / blocks, k0 = (t % blocks) * rows, k1 = min(KG, k0 + rows);
  const src = <usize>arg(job, FL_SRC), dst = <usize>arg(job, FL_DST);
  for (let k = k0; k < k1; k++) {
    let s = src + (<usize>(((g * KG + k) * CG) * taps) << 2);
    let d = dst + (<usize>(((g * CG) * KG + k) * taps) << 2);
    const dStep = <usize>(KG * taps) << 2;
    for (let c = 0; c < CG; c++) {
      for (let i = 0; i < taps; i++) store<f32>(d + (<usize>(taps - 1 - i) << 2), load<f32>(s + (<usize>i << 2)));
      s += <usize>taps << 2;
      d += dStep;
    }
  }
}
