// torch.gather and its gradient (src/backend/js/index-ops.ts) for any number of dimensions.
// The index tensor is cut into lines along the gather axis: a line fixes every other
// coordinate, so its elements read (gather) or add into (gradient) one line of x. A task is
// a run of lines; two lines never touch the same element of x, so the gradient's tasks never
// write the same element, and each element's sum runs in the reference's order (ascending
// along the axis), to the same float32 bits.
import { arg } from './job';

export const GA_X = 0, GA_IDX = 1, GA_OUT = 2, GA_DIMS = 3, GA_ND = 4, GA_AXIS = 5, GA_LINES = 6, GA_LPT = 7, GA_GRAD = 8;

// DIMS: per dimension d, three int32s: the index's size, x's stride and the index's stride.

/** Tasks' coordinates of the current line live in the thread's scratch (ND int32s). */
export function gatherTask(job: usize, t: i32, coord: usize): void {
  const nd = arg(job, GA_ND), axis = arg(job, GA_AXIS), lpt = arg(job, GA_LPT);
  const dims = <usize>arg(job, GA_DIMS);
  const x = <usize>arg(job, GA_X), idx = <usize>arg(job, GA_IDX), out = <usize>arg(job, GA_OUT);
  const grad = arg(job, GA_GRAD) != 0;
  const l0 = t * lpt, l1 = min(arg(job, GA_LINES), l0 + lpt);
  const len = load<i32>(dims + (<usize>(3 * axis) << 2));
  const xsa = load<i32>(dims + (<usize>(3 * axis + 1) << 2));
  const isa = load<i32>(dims + (<usize>(3 * axis + 2) << 2));
  // Coordinates of line l0 (row-major over the dimensions other than the axis).
  let rest = l0;
  for (let d = nd - 1; d >= 0; d--) {
    const cd = coord + (<usize>d << 2);
    if (d == axis) { store<i32>(cd, 0); continue; }
    const size = load<i32>(dims + (<usize>(3 * d) << 2));
    store<i32>(cd, rest % size);
    rest /= size;
  }
  for (let l = l0; l < l1; l++) {
    let xb = 0, ib = 0;
    for (let d = 0; d < nd; d++) {
      const c = load<i32>(coord + (<usize>d << 2));
      xb += c * load<i32>(dims + (<usize>(3 * d + 1) << 2));
      ib += c * load<i32>(dims + (<usize>(3 * d + 2) << 2));
    }
    if (grad) {
      // x here is dy (the index's shape) and out is dx (x's shape).
      for (let j = 0; j < len; j++) {
        const pos = ib + j * isa;
        const a = out + (<usize>(xb + load<i32>(idx + (<usize>pos << 2)) * xsa) << 2);
        store<f32>(a, load<f32>(a) + load<f32>(x + (<usize>pos << 2)));
      }
    } else {
      for (let j = 0; j < len; j++) {
        const pos = ib + j * isa;
        store<f32>(out + (<usize>pos << 2), load<f32>(x + (<usize>(xb + load<i32>(idx + (<usize>pos << 2)) * xsa) << 2)));
      }
    }
    // Next line.
    for (let d = nd - 1; d >= 0; d--) {
      if (d == axis) continue;
      const cd = coord + (<usize>d << 2);
      const c = load<i32>(cd) + 1;
      if (c < load<i32>(dims + (<usize>(3 * d) << 2))) { store<i32>(cd, c); break; }
      store<i32>(cd, 0);
    }
  }
}
