import * as ck from '../src/index.js';

/**
 * A generated dataset of coloured shapes on coloured backgrounds, 32x32 RGB, four classes:
 * circle, square, triangle, cross. The class is the shape alone; size, position,
 * colours and a little noise are random, so colour is no clue and the first layer's
 * filters have to learn edges in colour (the RGB filter view). Drawn from the seed: the same
 * seed gives the same images, which the browser test relies on. Nothing is downloaded.
 */

export const SHAPE_CLASSES = ['circle', 'square', 'triangle', 'cross'] as const;
const SIZE = 32;

type Inside = (dx: number, dy: number, r: number) => boolean;

const INSIDE: Inside[] = [
  (dx, dy, r) => dx * dx + dy * dy <= r * r,
  (dx, dy, r) => Math.abs(dx) <= r * 0.85 && Math.abs(dy) <= r * 0.85,
  // Apex up: within the band below the apex and between the two slanted edges.
  (dx, dy, r) => dy <= r * 0.8 && dy >= -r && Math.abs(dx) <= ((r * 0.8 - dy) / (1.8 * r)) * r,
  (dx, dy, r) => (Math.abs(dx) <= r * 0.3 && Math.abs(dy) <= r) || (Math.abs(dy) <= r * 0.3 && Math.abs(dx) <= r),
];

/** A random colour as RGB in [0, 255], far enough from `avoid` to keep the shape visible. */
function colour(g: ck.Generator, avoid?: readonly number[]): number[] {
  for (;;) {
    const c = [g.int(256), g.int(256), g.int(256)];
    if (!avoid) return c;
    const d = Math.abs(c[0]! - avoid[0]!) + Math.abs(c[1]! - avoid[1]!) + Math.abs(c[2]! - avoid[2]!);
    if (d > 240) return c;
  }
}

/** `count` images [3, 32, 32] with labels cycling through the classes in a shuffled order. */
export function colourShapes(count: number, seed: number, name: string): ck.data.ImageDataset {
  const g = new ck.Generator(seed);
  const plane = SIZE * SIZE;
  const pixels = new Uint8Array(count * 3 * plane);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) labels[n] = n % SHAPE_CLASSES.length;
  g.shuffle(labels);
  for (let n = 0; n < count; n++) {
    const inside = INSIDE[labels[n]!]!;
    const bg = colour(g);
    const fg = colour(g, bg);
    const r = 5 + g.uniform() * 7;
    const cx = r + 1 + g.uniform() * (SIZE - 2 * r - 2);
    const cy = r + 1 + g.uniform() * (SIZE - 2 * r - 2);
    const base = n * 3 * plane;
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const on = inside(x + 0.5 - cx, cy - (y + 0.5), r);
        const c = on ? fg : bg;
        for (let ch = 0; ch < 3; ch++) {
          const v = c[ch]! + (g.uniform() - 0.5) * 24;
          pixels[base + ch * plane + y * SIZE + x] = Math.max(0, Math.min(255, Math.round(v)));
        }
      }
    }
  }
  return new ck.data.ImageDataset(pixels, labels, [3, SIZE, SIZE], { classes: [...SHAPE_CLASSES], name });
}
