import { ConvkitError } from './errors.js';

/**
 * A small, fast, seedable generator (xoshiro128**). Every random op, initializer, shuffle and
 * augmentation draws from the global generator (`manualSeed`) or from one passed in, so that
 * the same seed on the same backend gives identical results. Its state is four uint32 words,
 * which checkpoints save and restore.
 */
export class Generator {
  private s = new Uint32Array(4);
  private spareNormal: number | null = null;

  constructor(seed = 0) {
    this.seed(seed);
  }

  /** Re-seeds from an integer with splitmix32, so nearby seeds give unrelated streams. */
  seed(seed: number): this {
    if (!Number.isFinite(seed)) throw new ConvkitError(`seed must be a finite number, got ${seed}`);
    let x = (Math.trunc(seed) >>> 0) ^ Math.floor(Math.trunc(seed) / 4294967296);
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
    this.spareNormal = null;
    return this;
  }

  /** A uniformly distributed uint32. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of randomness. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /**
   * out[i] = 0 where the i-th uniform() of this stream is < p, else `keep`: a dropout mask,
   * the same values as calling uniform() element by element, 3x faster: the state in locals,
   * and no branch on the draw (a coin flip the CPU mispredicts half the time).
   */
  fillMask(out: Float32Array, p: number, keep: number): void {
    const st = this.s;
    let s0 = st[0]! | 0, s1 = st[1]! | 0, s2 = st[2]! | 0, s3 = st[3]! | 0;
    // uniform() < p  <=>  nextUint32() < p * 2^32 (exact doubles)  <=>  u < ceil(p * 2^32),
    // compared as int32 with the sign bit flipped (u - 2^31) so the JIT keeps small integers.
    const bound = Math.ceil(p * 4294967296 - 2147483648);
    for (let i = 0; i < out.length; i++) {
      const m = Math.imul(s1, 5);
      const r = Math.imul((m << 7) | (m >>> 25), 9) ^ -2147483648;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i] = Number(r >= bound) * keep;
    }
    st[0] = s0; st[1] = s1; st[2] = s2; st[3] = s3;
  }

  /** Standard normal (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T>(items: T[] | Int32Array | Uint32Array): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
  }

  /** The generator's state, for `setState` to reproduce the sequence from here. */
  getState(): number[] {
    return [...this.s, this.spareNormal === null ? NaN : this.spareNormal];
  }

  /** Restores a state from `getState`. */
  setState(state: readonly number[]): void {
    if (state.length !== 5) throw new ConvkitError(`generator state must have 5 numbers, got ${state.length}`);
    for (let i = 0; i < 4; i++) this.s[i] = state[i]! >>> 0;
    this.spareNormal = Number.isNaN(state[4]) ? null : state[4]!;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The process-wide generator behind `manualSeed`. */
export const globalGenerator = new Generator(0x5eed);

/** Seeds the global generator (as `torch.manual_seed`). */
export function manualSeed(seed: number): void {
  globalGenerator.seed(seed);
}
