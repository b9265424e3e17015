import { describe, expect, it } from 'vitest';
import { Generator } from '../../src/tensor/random.js';
import { RandomErasing, transformFromJSON } from '../../src/data/image/transforms/index.js';
import { imageBuffer, type ImageBuffer } from '../../src/data/image/image-buffer.js';
import { expectConvkitError } from '../helpers/assert.js';

/** RandomErasing: its rectangle against torchvision's draw order worked through by hand, seeded determinism, JSON. */

function ones(c: number, h: number, w: number): ImageBuffer {
  return imageBuffer(c, h, w, new Float32Array(c * h * w).fill(1));
}

/** The erased rectangle of channel 0 as [top, left, h, w], or null when nothing was erased. */
function rectangle(x: ImageBuffer, value = 0): [number, number, number, number] | null {
  let top = Infinity, left = Infinity, bottom = -1, right = -1;
  for (let y = 0; y < x.height; y++)
    for (let col = 0; col < x.width; col++)
      if (x.data[y * x.width + col] === value) {
        top = Math.min(top, y); left = Math.min(left, col); bottom = Math.max(bottom, y); right = Math.max(right, col);
      }
  return bottom < 0 ? null : [top, left, bottom - top + 1, right - left + 1];
}

describe('RandomErasing', () => {
  it('erases the rectangle that the draws of torchvision\'s algorithm give, in every channel', () => {
    const t = new RandomErasing({ p: 1 });
    for (let seed = 0; seed < 20; seed++) {
      const x = ones(3, 10, 12);
      const out = t.apply(x, new Generator(seed));
      // The same draws by hand: p, then (area, log aspect) per try, then top and left.
      const g = new Generator(seed);
      g.uniform();
      let want: [number, number, number, number] | null = null;
      for (let i = 0; i < 10 && !want; i++) {
        const area = 120 * (0.02 + (0.33 - 0.02) * g.uniform());
        const aspect = Math.exp(Math.log(0.3) + (Math.log(3.3) - Math.log(0.3)) * g.uniform());
        const h = Math.round(Math.sqrt(area * aspect));
        const w = Math.round(Math.sqrt(area / aspect));
        if (h < 10 && w < 12) want = [g.int(10 - h + 1), g.int(12 - w + 1), h, w];
      }
      if (want === null || want[2] === 0 || want[3] === 0) {
        expect(rectangle(out)).toBeNull();
        continue;
      }
      expect(rectangle(out)).toEqual(want);
      // Every channel erased alike; everything else untouched; the input not modified.
      const [top, left, h, w] = want;
      const expected: number[] = [];
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < 10; y++)
          for (let col = 0; col < 12; col++) expected.push(y >= top && y < top + h && col >= left && col < left + w ? 0 : 1);
      expect(Array.from(out.data)).toEqual(expected);
      expect(x.data.every((v) => v === 1)).toBe(true);
    }
  });

  it('with p = 0 never erases and with p = 1 erases most images; the erased share lies in scale', () => {
    const none = new RandomErasing({ p: 0 });
    const g = new Generator(3);
    for (let i = 0; i < 20; i++) expect(rectangle(none.apply(ones(1, 28, 28), g))).toBeNull();
    const all = new RandomErasing({ p: 1, scale: [0.1, 0.2], value: -1 });
    let erased = 0;
    for (let i = 0; i < 50; i++) {
      const r = rectangle(all.apply(ones(1, 28, 28), g), -1);
      if (!r) continue;
      erased++;
      const share = (r[2] * r[3]) / 784;
      expect(share).toBeGreaterThan(0.05); // rounding of h and w moves the area a little
      expect(share).toBeLessThan(0.3);
    }
    expect(erased).toBeGreaterThan(40);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const t = new RandomErasing({ p: 1 });
    const a = t.apply(ones(1, 16, 16), new Generator(5)).data;
    const b = t.apply(ones(1, 16, 16), new Generator(5)).data;
    expect(Array.from(a)).toEqual(Array.from(b));
    const others = [6, 7, 8, 9].map((s) => Array.from(t.apply(ones(1, 16, 16), new Generator(s)).data).join());
    expect(others.some((o) => o !== Array.from(a).join())).toBe(true);
  });

  it('round-trips through JSON and gives the same output after', () => {
    const t = new RandomErasing({ p: 0.7, scale: [0.05, 0.25], ratio: [0.5, 2], value: 0.5 });
    const json = JSON.parse(JSON.stringify(t.toJSON()));
    expect(json).toEqual({ type: 'RandomErasing', p: 0.7, scale: [0.05, 0.25], ratio: [0.5, 2], value: 0.5 });
    const back = transformFromJSON(json);
    expect(back).toBeInstanceOf(RandomErasing);
    for (let s = 0; s < 5; s++) {
      expect(Array.from(back.apply(ones(2, 9, 7), new Generator(s)).data)).toEqual(Array.from(t.apply(ones(2, 9, 7), new Generator(s)).data));
    }
  });

  it('refuses bad options with a clear error', () => {
    expectConvkitError(() => new RandomErasing({ p: 1.5 }), /p is a probability/);
    expectConvkitError(() => new RandomErasing({ scale: [0.5, 0.2] }), /scale is a range/);
    expectConvkitError(() => new RandomErasing({ ratio: [0, 1] }), /ratio is a range/);
    expectConvkitError(() => new RandomErasing({ value: NaN }), /value must be a finite number/);
  });
});
