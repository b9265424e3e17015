// Explicit im2col for convolutions with few output channels (LeNet, the CIFAR demo, and
// their gradients): there each B element feeds only a handful of multiply-adds, so the
// implicit packer's per-element index arithmetic would dominate. The GEMM task writes the
// column matrix of its own image into its scratch with row copies (gemm.ts, BMODE_COLS) and
// reads it in place while it is hot in cache.
import { copyFloats, zeroFloats } from './mem';
import { Geo } from './pack';

/** The kh*kw rows of one channel plane x: row (ki, kj) holds that tap at every output pixel. */
export function im2colChannel(x: usize, g: Geo, row: usize): usize {
  const H = g.h, W = g.w, sw = g.sw, oh = g.oh, ow = g.ow;
  for (let ki = 0; ki < g.kh; ki++) {
    for (let kj = 0; kj < g.kw; kj++) {
      const x0 = kj * g.dw - g.pl;
      // Output columns whose input column x0 + ox*sw lies inside the image.
      let lo = x0 >= 0 ? 0 : (-x0 + sw - 1) / sw;
      let hi = W - x0 > 0 ? (W - x0 + sw - 1) / sw : 0;
      if (hi > ow) hi = ow;
      if (lo > hi) lo = hi;
      for (let oy = 0; oy < oh; oy++) {
        const y = oy * g.sh - g.pt + ki * g.dh;
        const dst = row + (<usize>(oy * ow) << 2);
        if (y < 0 || y >= H) { zeroFloats(dst, ow); continue; }
        if (lo > 0) zeroFloats(dst, lo);
        const src = x + (<usize>(y * W + x0) << 2);
        if (sw == 1) copyFloats(dst + (<usize>lo << 2), src + (<usize>lo << 2), hi - lo);
        else {
          let ox = lo;
          if (sw == 2) {
            // Four outputs from two loads (the even lanes); only while all eight loaded floats
            // are in the row.
            for (; ox + 4 <= hi && 2 * ox + 8 + x0 <= W; ox += 4) {
              const p = src + (<usize>(2 * ox) << 2);
              v128.store(dst + (<usize>ox << 2), v128.shuffle<f32>(v128.load(p), v128.load(p, 16), 0, 2, 4, 6));
            }
          }
          for (; ox < hi; ox++) store<f32>(dst + (<usize>ox << 2), load<f32>(src + (<usize>(ox * sw) << 2)));
        }
        if (hi < ow) zeroFloats(dst + (<usize>hi << 2), ow - hi);
      }
      row += <usize>(oh * ow) << 2;
    }
  }
  return row;
}
