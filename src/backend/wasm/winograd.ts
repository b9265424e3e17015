/**
 * Winograd F(2x2, 3x3) (assembly/winograd.ts): when it applies, how to cut the work into
 * tasks, and the two jobs (filter transform, then the fused per-band convolution).
 */
import type { Conv2DAttrs } from '../kernels.js';
import { KIND, W } from './job-layout.js';
import type { WasmRuntime } from './runtime.js';

/**
 * 3x3, stride 1, no dilation, no groups. Few channels make the transforms cost more than the
 * multiplies they save (and the GEMM's tiles emptier), so those stay on the direct GEMM;
 * measured (single core, CPU time): 64@56 4.7 ms vs 7.7 direct, 512@14 18.5 vs 27.0,
 * but 512@7 14.3 vs 10.4.
 */
export function winogradApplies(attrs: Conv2DAttrs, c: number, k: number): boolean {
  return (
    attrs.groups === 1 &&
    attrs.kernel[0] === 3 && attrs.kernel[1] === 3 &&
    attrs.stride[0] === 1 && attrs.stride[1] === 1 &&
    attrs.dilation[0] === 1 && attrs.dilation[1] === 1 &&
    c >= 16 && k >= 16 && attrs.out[0] >= 4 &&
    // Tile rows are padded to 8 tiles: a narrow output (7x7: 4 tiles -> 8) wastes too much.
    Math.ceil(attrs.out[1] / 2) >= 6
  );
}

/** y (pointer, [n, k, oh, ow]) = conv3x3(x, w) + bias, ReLU when `relu`. Pointers are bytes. */
export function runWinograd(
  rt: WasmRuntime, x: number, w: number, bias: number, y: number, relu: boolean,
  n: number, c: number, h: number, wd: number, k: number, attrs: Conv2DAttrs,
): void {
  const [oh, ow] = attrs.out;
  const th = Math.ceil(oh / 2);
  const twp = Math.ceil(Math.ceil(ow / 2) / 8) * 8;
  const wp = 2 * twp + 4;
  const kp = Math.ceil(k / 4) * 4;
  const kb = Math.min(kp, 64);
  const threads = rt.threads();
  // Bands of about 32 tiles (a B panel of C x 8 stays in L1, V and M of a band in L2),
  // thinner when that leaves threads idle.
  let rows = Math.max(1, Math.min(th, Math.ceil(32 / twp)));
  while (rows > 1 && n * Math.ceil(th / rows) < 2 * threads) rows = Math.ceil(rows / 2);
  const tpi = Math.ceil(th / rows);

  const u = rt.alloc(16 * kp * c);
  const v = [
    [W.X, x], [W.U, u], [W.Y, y], [W.BIAS, bias], [W.RELU, relu ? 1 : 0], [W.N, n], [W.C, c], [W.K, k],
    [W.H, h], [W.W, wd], [W.OH, oh], [W.OW, ow], [W.PT, attrs.pad[0]], [W.PL, attrs.pad[2]],
    [W.TH, th], [W.TWP, twp], [W.ROWS, rows], [W.TPI, tpi], [W.WP, wp], [W.KB, kb], [W.KP, kp], [W.G, w],
  ] as const;
  for (const [slot, value] of v) rt.arg(slot, value);
  rt.run(KIND.winogradFilter, kp / 4, 0, k * c >= 4096);
  const tb = rows * twp;
  const scratch = 512 + 4 * (c * (2 * rows + 2) * wp + 16 * c * tb + 16 * kb * tb);
  rt.run(KIND.winograd, n * tpi, scratch, true);
}
