// ArgMax and TopK along one axis of x viewed as [OUTER, N, INNER] (src/backend/js/index-ops.ts).
// A line is one (outer, inner) pair: N values INNER apart. NaN ranks above every number, and
// equal values (-0 and +0 included, any two NaN) rank by lower index. A task is a run of lines.
import { arg } from './job';

export const AM_X = 0, AM_OUT = 1, AM_VALS = 2, AM_OUTER = 3, AM_N = 4, AM_INNER = 5, AM_LPT = 6, AM_K = 7, AM_LARGEST = 8;

/** Index of the first maximum of each line. Four neighbouring lines (along INNER) at a time in SIMD. */
export function argMaxTask(job: usize, t: i32): void {
  const outer = arg(job, AM_OUTER), n = arg(job, AM_N), inner = arg(job, AM_INNER), lpt = arg(job, AM_LPT);
  const x = <usize>arg(job, AM_X), out = <usize>arg(job, AM_OUT);
  const l0 = t * lpt, l1 = min(outer * inner, l0 + lpt);
  const step = <usize>inner << 2;
  let l = l0;
  while (l < l1) {
    const o = l / inner, i = l % inner;
    const base = x + (<usize>(o * n * inner + i) << 2);
    if (i + 4 <= inner && l + 4 <= l1) {
      let best = v128.load(base);
      let arg = i32x4.splat(0);
      let p = base;
      for (let j = 1; j < n; j++) {
        p += step;
        const v = v128.load(p);
        // greater(v, best): v > best, or v is NaN and best is not.
        const gt = v128.or(f32x4.gt(v, best), v128.andnot(f32x4.ne(v, v), f32x4.ne(best, best)));
        best = v128.bitselect(v, best, gt);
        arg = v128.bitselect(i32x4.splat(j), arg, gt);
      }
      v128.store(out + (<usize>l << 2), arg);
      l += 4;
    } else {
      let best = load<f32>(base);
      let am = 0;
      let p = base;
      for (let j = 1; j < n; j++) {
        p += step;
        const v = load<f32>(p);
        if (v > best || (v != v && best == best)) { best = v; am = j; }
      }
      store<i32>(out + (<usize>l << 2), am);
      l++;
    }
  }
}

/**
 * A rank key: a larger key ranks first. The order of floats as unsigned integers, NaN above
 * +inf, -0 equal to +0; inverted for the k smallest (NaN last there too). The low 32 bits hold
 * the complement of the index, so equal values rank by lower index and keys are distinct.
 */
// @ts-ignore: decorator
@inline function rankKey(v: f32, j: i32, largest: bool): u64 {
  let k: u32;
  if (v != v) k = 0xFFFFFFFF;
  else {
    const b = v == 0 ? <u32>0 : reinterpret<u32>(v);
    k = b >> 31 ? ~b : b | 0x80000000;
  }
  if (!largest) k = v != v ? 0 : ~k;
  return (<u64>k << 32) | <u64><u32>(~j);
}

/** Sifts the key at i down the max-heap h of n keys. */
function siftDown(h: usize, i: i32, n: i32): void {
  const key = load<u64>(h + (<usize>i << 3));
  while (true) {
    let c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && load<u64>(h + (<usize>(c + 1) << 3)) > load<u64>(h + (<usize>c << 3))) c++;
    const ck = load<u64>(h + (<usize>c << 3));
    if (ck <= key) break;
    store<u64>(h + (<usize>i << 3), ck);
    i = c;
  }
  store<u64>(h + (<usize>i << 3), key);
}

/**
 * The K first-ranked values of each line, in rank order, with their indices: the line's keys
 * in a max-heap (scratch, 8 N bytes), popped K times.
 */
export function topKTask(job: usize, t: i32, heap: usize): void {
  const outer = arg(job, AM_OUTER), n = arg(job, AM_N), inner = arg(job, AM_INNER), lpt = arg(job, AM_LPT);
  const K = arg(job, AM_K), largest = arg(job, AM_LARGEST) != 0;
  const x = <usize>arg(job, AM_X), out = <usize>arg(job, AM_OUT), vals = <usize>arg(job, AM_VALS);
  const l0 = t * lpt, l1 = min(outer * inner, l0 + lpt);
  for (let l = l0; l < l1; l++) {
    const o = l / inner, i = l % inner;
    const base = x + (<usize>(o * n * inner + i) << 2);
    for (let j = 0; j < n; j++) store<u64>(heap + (<usize>j << 3), rankKey(load<f32>(base + (<usize>(j * inner) << 2)), j, largest));
    for (let j = (n >> 1) - 1; j >= 0; j--) siftDown(heap, j, n);
    let size = n;
    for (let r = 0; r < K; r++) {
      const top = load<u64>(heap);
      const j = ~(<i32>(<u32>top));
      const dst = <usize>((o * K + r) * inner + i) << 2;
      store<i32>(out + dst, j);
      store<f32>(vals + dst, load<f32>(base + (<usize>(j * inner) << 2)));
      size--;
      store<u64>(heap, load<u64>(heap + (<usize>size << 3)));
      siftDown(heap, 0, size);
    }
  }
}
