/**
 * Paints arrays of numbers into canvases, one pixel per value (CSS scales them up with
 * `image-rendering: pixelated`, so a 3x3 filter shows as 9 crisp squares). Grey maps
 * [min, max] to black..white; RGB takes three planes; diverging maps negative to blue and
 * positive to red around zero (for filters and gradients, whose sign matters).
 */

export type ColourMap = 'grey' | 'diverging' | 'heat';

/** Min and max of the finite values (0, 0 for none). */
export function range(v: ArrayLike<number>, start = 0, end = v.length): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = start; i < end; i++) {
    const x = v[i]!;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return Number.isFinite(min) && Number.isFinite(max) ? [min, max] : [0, 0];
}

/** Sets a canvas's pixel size (only when it changes: resizing clears it and costs layout). */
export function sizeCanvas(c: HTMLCanvasElement, w: number, h: number): void {
  if (c.width !== w) c.width = w;
  if (c.height !== h) c.height = h;
}

function put(c: HTMLCanvasElement, w: number, h: number, rgba: Uint8ClampedArray<ArrayBuffer>): void {
  sizeCanvas(c, w, h);
  c.getContext('2d')!.putImageData(new ImageData(rgba, w, h), 0, 0);
}

/**
 * One plane of `w x h` values from `offset` in `v`, with the given colour map. `lo`/`hi`
 * default to the plane's own range (diverging: symmetric around 0).
 */
export function paintPlane(c: HTMLCanvasElement, v: ArrayLike<number>, offset: number, w: number, h: number, map: ColourMap = 'grey', lo?: number, hi?: number): void {
  const n = w * h;
  let [min, max] = lo !== undefined && hi !== undefined ? [lo, hi] : range(v, offset, offset + n);
  const rgba = new Uint8ClampedArray(n * 4);
  if (map === 'diverging') {
    const m = Math.max(Math.abs(min), Math.abs(max)) || 1;
    for (let i = 0; i < n; i++) {
      const t = v[offset + i]! / m;
      const o = i * 4;
      // white at 0, red for positive, blue for negative
      rgba[o] = t < 0 ? 255 * (1 + t) : 255;
      rgba[o + 1] = 255 * (1 - Math.abs(t));
      rgba[o + 2] = t > 0 ? 255 * (1 - t) : 255;
      rgba[o + 3] = 255;
    }
  } else {
    if (max === min) max = min + 1;
    const s = 255 / (max - min);
    for (let i = 0; i < n; i++) {
      const g = (v[offset + i]! - min) * s;
      const o = i * 4;
      if (map === 'heat') {
        // black -> red -> yellow -> white
        rgba[o] = g * 3;
        rgba[o + 1] = g * 3 - 255;
        rgba[o + 2] = g * 3 - 510;
      } else {
        rgba[o] = rgba[o + 1] = rgba[o + 2] = g;
      }
      rgba[o + 3] = 255;
    }
  }
  put(c, w, h, rgba);
}

/** Three planes [3, h, w] as colour; values scaled from [lo, hi] (default their joint range). */
export function paintRgb(c: HTMLCanvasElement, v: ArrayLike<number>, offset: number, w: number, h: number, lo?: number, hi?: number): void {
  const n = w * h;
  let [min, max] = lo !== undefined && hi !== undefined ? [lo, hi] : range(v, offset, offset + 3 * n);
  if (max === min) max = min + 1;
  const s = 255 / (max - min);
  const rgba = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    rgba[i * 4] = (v[offset + i]! - min) * s;
    rgba[i * 4 + 1] = (v[offset + n + i]! - min) * s;
    rgba[i * 4 + 2] = (v[offset + 2 * n + i]! - min) * s;
    rgba[i * 4 + 3] = 255;
  }
  put(c, w, h, rgba);
}

/** An input image [C, h, w] in [0, 1]: grey for one channel, colour for three. */
export function paintImage(c: HTMLCanvasElement, pixels: ArrayLike<number>, shape: readonly number[]): void {
  const [ch, h, w] = shape as [number, number, number];
  if (ch === 3) paintRgb(c, pixels, 0, w, h, 0, 1);
  else paintPlane(c, pixels, 0, w, h, 'grey', 0, 1);
}
