// col2im, the adjoint of im2col, for the input gradient of strided convolutions: every column
// entry is added back onto the pixel it was read from. One task is one (image, channel) plane,
// so tasks never write the same pixel and need no locks.
import { zeroFloats } from './mem';
import { arg } from './job';

export const C_COLS = 0, C_DX = 1, C_NPLANES = 2; // planes = images * channels (per group run)
export const C_GEO = 3; // c h w kh kw sh sw pt pl dh dw oh ow

export function col2imTask(job: usize, t: i32, tid: i32): void {
  const c = arg(job, C_GEO), h = arg(job, C_GEO + 1), w = arg(job, C_GEO + 2);
  const kh = arg(job, C_GEO + 3), kw = arg(job, C_GEO + 4), sh = arg(job, C_GEO + 5), sw = arg(job, C_GEO + 6);
  const pt = arg(job, C_GEO + 7), pl = arg(job, C_GEO + 8), dh = arg(job, C_GEO + 9), dw = arg(job, C_GEO + 10);
  const oh = arg(job, C_GEO + 11), ow = arg(job, C_GEO + 12);
  const n = t / c, ch = t - n * c;
  const ohw = oh * ow;
  // cols for image n: [c*kh*kw, oh*ow]; dx planes are [n][c][h][w] with c channels per image.
  const cols = <usize>arg(job, C_COLS) + (<usize>((n * c + ch) * kh * kw) * <usize>ohw << 2);
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
      row += <usize>ohw << 2;
    }
  }
}
