// Explicit im2col for convolutions with few output channels (LeNet, the CIFAR demo, and
// their gradients): there each packed B element feeds only a handful of multiply-adds, so
// the implicit packer's per-element index arithmetic would dominate. Writing the column
// matrix once with row copies and packing it with vector loads is several times cheaper.
// One task is one (image, input channel): kh*kw rows of that image's [C*kh*kw, oh*ow] matrix.
import { arg } from './job';

export const I_X = 0, I_COLS = 1, I_GEO = 2; // geo: c h w kh kw sh sw pt pl dh dw oh ow (c = all channels)

export function im2colTask(job: usize, t: i32): void {
  const C = arg(job, I_GEO), H = arg(job, I_GEO + 1), W = arg(job, I_GEO + 2);
  const kh = arg(job, I_GEO + 3), kw = arg(job, I_GEO + 4), sh = arg(job, I_GEO + 5), sw = arg(job, I_GEO + 6);
  const pt = arg(job, I_GEO + 7), pl = arg(job, I_GEO + 8), dh = arg(job, I_GEO + 9), dw = arg(job, I_GEO + 10);
  const oh = arg(job, I_GEO + 11), ow = arg(job, I_GEO + 12);
  const n = t / C, c = t - n * C;
  const x = <usize>arg(job, I_X) + (<usize>((n * C + c) * H * W) << 2);
  let row = <usize>arg(job, I_COLS) + (<usize>((n * C + c) * kh * kw * oh * ow) << 2);
  for (let ki = 0; ki < kh; ki++) {
    for (let kj = 0; kj < kw; kj++) {
      const x0 = kj * dw - pl;
      // Output columns whose input column x0 + ox*sw lies inside the image.
      let lo = x0 >= 0 ? 0 : (-x0 + sw - 1) / sw;
      let hi = W - x0 > 0 ? (W - x0 + sw - 1) / sw : 0;
      if (hi > ow) hi = ow;
      if (lo > hi) lo = hi;
      for (let oy = 0; oy < oh; oy++) {
        const y = oy * sh - pt + ki * dh;
        const dst = row + (<usize>(oy * ow) << 2);
        if (y < 0 || y >= H) { memory.fill(dst, 0, <usize>ow << 2); continue; }
        if (lo > 0) memory.fill(dst, 0, <usize>lo << 2);
        const src = x + (<usize>(y * W + x0) << 2);
        if (sw == 1) memory.copy(dst + (<usize>lo << 2), src + (<usize>lo << 2), <usize>(hi - lo) << 2);
        else for (let ox = lo; ox < hi; ox++) store<f32>(dst + (<usize>ox << 2), load<f32>(src + (<usize>(ox * sw) << 2)));
        if (hi < ow) memory.fill(dst + (<usize>hi << 2), 0, <usize>(ow - hi) << 2);
      }
      row += <usize>(oh * ow) << 2;
    }
  }
}
