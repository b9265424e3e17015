/**
 * Independent reference implementations for the convolution family, written as directly from
 * the definitions as possible (nested loops, float64 sums, no im2col, no convkit code), so
 * that the kernels under test are compared with something that shares none of their tricks.
 * Arrays are flat row-major number arrays with explicit shapes.
 */

export type Shape4 = [number, number, number, number];

export interface NaiveConvGeometry {
  stride: [number, number];
  /** [top, bottom, left, right] */
  pads: [number, number, number, number];
  dilation: [number, number];
  groups: number;
  /** Output size; the caller states it (hand-computed), the loops just read zeros outside the input. */
  out: [number, number];
}

const at4 = (s: readonly number[], a: number, b: number, c: number, d: number) => ((a * s[1]! + b) * s[2]! + c) * s[3]! + d;

/**
 * Visits every term of the convolution sum: y[n,k,oy,ox] += x[n,c,iy,ix] * w[k,cl,i,j] for the
 * input position inside the image (padding contributes zero terms, so they are skipped).
 */
function forEachTerm(
  xs: Shape4,
  ws: Shape4,
  g: NaiveConvGeometry,
  visit: (yi: number, xi: number, wi: number) => void,
): void {
  const [n, c, h, w] = xs;
  const [k, cPerGroup, kh, kw] = ws;
  const kPerGroup = k / g.groups;
  const ys: Shape4 = [n, k, g.out[0], g.out[1]];
  for (let b = 0; b < n; b++)
    for (let ko = 0; ko < k; ko++)
      for (let oy = 0; oy < g.out[0]; oy++)
        for (let ox = 0; ox < g.out[1]; ox++)
          for (let cl = 0; cl < cPerGroup; cl++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const ci = Math.floor(ko / kPerGroup) * cPerGroup + cl;
                const iy = oy * g.stride[0] - g.pads[0] + i * g.dilation[0];
                const ix = ox * g.stride[1] - g.pads[2] + j * g.dilation[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= w || ci >= c) continue;
                visit(at4(ys, b, ko, oy, ox), at4(xs, b, ci, iy, ix), at4(ws, ko, cl, i, j));
              }
}

/** The 7-loop direct convolution (cross-correlation) with bias. */
export function naiveConv2d(x: ArrayLike<number>, xs: Shape4, w: ArrayLike<number>, ws: Shape4, b: ArrayLike<number> | null, g: NaiveConvGeometry): number[] {
  const y = new Array<number>(xs[0] * ws[0] * g.out[0] * g.out[1]).fill(0);
  forEachTerm(xs, ws, g, (yi, xi, wi) => (y[yi]! += x[xi]! * w[wi]!));
  if (b) {
    const plane = g.out[0] * g.out[1];
    for (let i = 0; i < y.length; i++) y[i]! += b[Math.floor(i / plane) % ws[0]]!;
  }
  return y;
}

/** Gradients of sum(y * dy) straight from the same sum: dx += w*dy, dw += x*dy, db = sum dy. */
export function naiveConv2dGrads(
  x: ArrayLike<number>,
  xs: Shape4,
  w: ArrayLike<number>,
  ws: Shape4,
  dy: ArrayLike<number>,
  g: NaiveConvGeometry,
): { dx: number[]; dw: number[]; db: number[] } {
  const dx = new Array<number>(x.length).fill(0);
  const dw = new Array<number>(w.length).fill(0);
  forEachTerm(xs, ws, g, (yi, xi, wi) => {
    dx[xi]! += w[wi]! * dy[yi]!;
    dw[wi]! += x[xi]! * dy[yi]!;
  });
  const db = new Array<number>(ws[0]).fill(0);
  const plane = g.out[0] * g.out[1];
  for (let i = 0; i < dy.length; i++) db[Math.floor(i / plane) % ws[0]]! += dy[i]!;
  return { dx, dw, db };
}

/**
 * Transposed convolution by its scatter definition: every input pixel x[n,ci,a,b] adds
 * x * w[ci,co,i,j] at output (a*S - P_top + i*D, b*S - P_left + j*D) when that lies inside.
 * w is [Cin, Cout/groups, kh, kw].
 */
export function naiveConvTranspose2d(
  x: ArrayLike<number>,
  xs: Shape4,
  w: ArrayLike<number>,
  ws: Shape4,
  b: ArrayLike<number> | null,
  g: NaiveConvGeometry,
): number[] {
  const [n, cin, h, wd] = xs;
  const [, coutPerGroup, kh, kw] = ws;
  const cout = coutPerGroup * g.groups;
  const cinPerGroup = cin / g.groups;
  const ys: Shape4 = [n, cout, g.out[0], g.out[1]];
  const y = new Array<number>(n * cout * g.out[0] * g.out[1]).fill(0);
  for (let bi = 0; bi < n; bi++)
    for (let ci = 0; ci < cin; ci++)
      for (let a = 0; a < h; a++)
        for (let bb = 0; bb < wd; bb++)
          for (let col = 0; col < coutPerGroup; col++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const co = Math.floor(ci / cinPerGroup) * coutPerGroup + col;
                const oy = a * g.stride[0] - g.pads[0] + i * g.dilation[0];
                const ox = bb * g.stride[1] - g.pads[2] + j * g.dilation[1];
                if (oy < 0 || oy >= g.out[0] || ox < 0 || ox >= g.out[1]) continue;
                y[at4(ys, bi, co, oy, ox)]! += x[at4(xs, bi, ci, a, bb)]! * w[at4(ws, ci, col, i, j)]!;
              }
  if (b) {
    const plane = g.out[0] * g.out[1];
    for (let i = 0; i < y.length; i++) y[i]! += b[Math.floor(i / plane) % cout]!;
  }
  return y;
}

export type NaivePadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/** Which input index padded index i reads (or -1 for the constant), case by case. */
export function naivePadSource(i: number, before: number, size: number, mode: NaivePadMode): number {
  const s = i - before;
  if (s >= 0 && s < size) return s;
  if (mode === 'constant') return -1;
  if (mode === 'replicate') return s < 0 ? 0 : size - 1;
  if (mode === 'reflect') return s < 0 ? -s : 2 * (size - 1) - s;
  return s < 0 ? s + size : s - size; // circular, pads <= size
}

/** Pads the last two dims of a [..., H, W] array; pads are [top, bottom, left, right]. */
export function naivePad(
  x: ArrayLike<number>,
  shape: readonly number[],
  pads: readonly [number, number, number, number],
  mode: NaivePadMode,
  value = 0,
): { data: number[]; shape: number[] } {
  const h = shape[shape.length - 2]!;
  const w = shape[shape.length - 1]!;
  const planes = x.length / (h * w);
  const oh = h + pads[0] + pads[1];
  const ow = w + pads[2] + pads[3];
  const data: number[] = [];
  for (let p = 0; p < planes; p++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        const r = naivePadSource(i, pads[0], h, mode);
        const c = naivePadSource(j, pads[2], w, mode);
        data.push(r < 0 || c < 0 ? value : x[p * h * w + r * w + c]!);
      }
  return { data, shape: [...shape.slice(0, -2), oh, ow] };
}

/** The gradient of naivePad: every padded position sends its dy back to the pixel it read. */
export function naivePadGrad(
  dy: ArrayLike<number>,
  shape: readonly number[],
  pads: readonly [number, number, number, number],
  mode: NaivePadMode,
): number[] {
  const h = shape[shape.length - 2]!;
  const w = shape[shape.length - 1]!;
  const planes = dy.length / ((h + pads[0] + pads[1]) * (w + pads[2] + pads[3]));
  const oh = h + pads[0] + pads[1];
  const ow = w + pads[2] + pads[3];
  const dx = new Array<number>(planes * h * w).fill(0);
  for (let p = 0; p < planes; p++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        const r = naivePadSource(i, pads[0], h, mode);
        const c = naivePadSource(j, pads[2], w, mode);
        if (r >= 0 && c >= 0) dx[p * h * w + r * w + c]! += dy[(p * oh + i) * ow + j]!;
      }
  return dx;
}

/** A deterministic pseudo-random array in [-1, 1) (a tiny LCG, independent of convkit's generator). */
export function randomArray(n: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(s / 2147483648 - 1);
  }
  return out;
}
