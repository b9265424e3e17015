// B operands whose columns run over several images, so a strided convolution's forward pass
// and input gradient are one GEMM over the whole batch: the filters are packed once per block
// and every micro-panel is a full eight columns, however few output pixels one image has
// (7x7 and 4x4 outputs of ResNet's downsampling layers, 4 and 1 of late layers).
//
// Column j of B is output pixel (oy, ox) of image i, j = i*ohw + oy*ow + ox, read from
//   x + rowOff[p] + i*istride + oy*pw + ox        (floats)
// rowOff[p]: the row's offset (a tap's offset into the phase planes, or a channel's plane).
// Each half panel (four columns) is one vector load where its columns are contiguous, two
// loads and a select where it crosses one row or image boundary, scalar loads otherwise
// (outputs narrower than three pixels). No load reaches past a column it needs, so operands
// need no padding.
//
// Also the reorder between the GEMM's [K][images*ohw] result and the [images][K][ohw] tensor
// layout (job kind 140).
import { arg } from './job';
import { NR } from './kernel';
import { copyFloats } from './mem';

/** How a half panel's four columns load. */
const H_VEC: i32 = 0, H_SCALAR: i32 = 1, H_ZERO: i32 = 2;

/**
 * Packs rows p0..p0+kc (offsets rowOff[0..kc), ints at `rowOff`) and columns j0..j0+nc of the
 * multi-image B into NR-column panels at dst. `coff` is NR ints of scratch.
 */
export function packMulti(
  x: usize, rowOff: usize, kc: i32, j0: i32, nc: i32, ncols: i32,
  ohw: i32, ow: i32, pw: i32, istride: i32, dst: usize, coff: usize,
): void {
  for (let jb = 0; jb < nc; jb += NR) {
    const j = j0 + jb;
    const cols = min(NR, ncols - j);
    // Float offset of each column.
    const oh = ohw / ow;
    let img = j / ohw;
    const pix = j - img * ohw;
    let oy = pix / ow, ox = pix - oy * ow;
    for (let q = 0; q < cols; q++) {
      store<i32>(coff + (<usize>q << 2), img * istride + oy * pw + ox);
      if (++ox == ow) { ox = 0; if (++oy == oh) { oy = 0; img++; } }
    }
    // Per half: mode, the two load bases and the lanes taken from the first.
    let m0 = H_ZERO, m1 = H_ZERO;
    let a0 = 0, b0 = 0, a1 = 0, b1 = 0;
    let k0 = i32x4.splat(-1), k1 = i32x4.splat(-1);
    for (let h = 0; h < 2; h++) {
      const q0 = h << 2;
      const n = min(4, cols - q0);
      let mode = H_ZERO, a = 0, b = 0, r = 4;
      if (n == 4) {
        const c0 = load<i32>(coff + (<usize>q0 << 2));
        // First break in contiguity (4: none).
        r = 1;
        while (r < 4 && load<i32>(coff + (<usize>(q0 + r) << 2)) == c0 + r) r++;
        a = c0;
        if (r == 4) { mode = H_VEC; b = c0; } else {
          const c1 = load<i32>(coff + (<usize>(q0 + r) << 2));
          let ok = true;
          for (let q = r + 1; q < 4; q++) if (load<i32>(coff + (<usize>(q0 + q) << 2)) != c1 + q - r) ok = false;
          if (ok) { mode = H_VEC; b = c1 - r; } else mode = H_SCALAR;
        }
      } else if (n > 0) mode = H_SCALAR;
      const mask = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(r));
      if (h == 0) { m0 = mode; a0 = a; b0 = b; k0 = mask; } else { m1 = mode; a1 = a; b1 = b; k1 = mask; }
    }
    let d = dst;
    if (m0 == H_VEC && m1 == H_VEC && a1 == a0 + 4 && b0 == a0 && b1 == a1) {
      // Eight contiguous columns.
      const s = x + (<usize>a0 << 2);
      for (let p = 0; p < kc; p++) {
        const sp = s + (<usize>load<i32>(rowOff + (<usize>p << 2)) << 2);
        v128.store(d, v128.load(sp)); v128.store(d, v128.load(sp, 16), 16);
        d += NR << 2;
      }
    } else if (m0 == H_VEC && m1 == H_VEC) {
      const sa0 = x + (<usize>a0 << 2), sb0 = x + (<usize>b0 << 2);
      const sa1 = x + (<usize>a1 << 2), sb1 = x + (<usize>b1 << 2);
      for (let p = 0; p < kc; p++) {
        const o = <usize>load<i32>(rowOff + (<usize>p << 2)) << 2;
        v128.store(d, v128.bitselect(v128.load(sa0 + o), v128.load(sb0 + o), k0));
        v128.store(d, v128.bitselect(v128.load(sa1 + o), v128.load(sb1 + o), k1), 16);
        d += NR << 2;
      }
    } else {
      // Narrow outputs or the last columns: scalar loads, zeros past the end.
      for (let p = 0; p < kc; p++) {
        const sp = x + (<usize>load<i32>(rowOff + (<usize>p << 2)) << 2);
        v128.store(d, f32x4.splat(0)); v128.store(d, f32x4.splat(0), 16);
        for (let q = 0; q < cols; q++) store<f32>(d + (<usize>q << 2), load<f32>(sp + (<usize>load<i32>(coff + (<usize>q << 2)) << 2)));
        d += NR << 2;
      }
    }
    dst += <usize>(kc * NR) << 2;
  }
}

export const BC_SRC = 0, BC_DST = 1, BC_ROWS = 2, BC_IMAGES = 3, BC_OHW = 4, BC_DIR = 5, BC_ROWB = 6;

/**
 * Task t: image t / blocks, rows of block t % blocks (BC_ROWB rows each). Direction 0:
 * src [rows][images*ohw] -> dst [images][rows][ohw]; 1: the reverse.
 */
export function batchColsTask(job: usize, t: i32): void {
  const rows = arg(job, BC_ROWS), images = arg(job, BC_IMAGES), ohw = arg(job, BC_OHW), rowb = arg(job, BC_ROWB);
  const blocks = (rows + rowb - 1) / rowb;
  const i = t / blocks, r0 = (t - i * blocks) * rowb, r1 = min(rows, r0 + rowb);
  const src = <usize>arg(job, BC_SRC), dst = <usize>arg(job, BC_DST);
  const toImages = arg(job, BC_DIR) == 0;
  for (let r = r0; r < r1; r++) {
    const w = (<usize>r * <usize>(images * ohw) + <usize>(i * ohw)) << 2;
    const m = (<usize>(i * rows + r) * <usize>ohw) << 2;
    if (toImages) copyFloats(dst + m, src + w, ohw);
    else copyFloats(dst + w, src + m, ohw);
  }
}
