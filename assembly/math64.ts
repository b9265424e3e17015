// float64 exp and log1p without lookup tables. The module has no static data (the job block
// and the heap start at fixed addresses, src/backend/wasm/runtime.ts), so NativeMath.exp,
// which reads a table at shrink level 0, must not be linked in. This is fdlibm's e_exp.c
// (as musl's table-free branch and V8's Math.exp), so results track the js reference's.
// NativeMath.log1p is fdlibm's s_log1p.c and has no table.

const LN2HI = reinterpret<f64>(0x3FE62E42FEE00000);
const LN2LO = reinterpret<f64>(0x3DEA39EF35793C76);
const INVLN2 = reinterpret<f64>(0x3FF71547652B82FE);
const P1 = reinterpret<f64>(0x3FC555555555553E);
const P2 = reinterpret<f64>(0xBF66C16C16BEBD93);
const P3 = reinterpret<f64>(0x3F11566AAF25DE2C);
const P4 = reinterpret<f64>(0xBEBBBD41C5D26BF1);
const P5 = reinterpret<f64>(0x3E66376972BEA4D0);
const OVERFLOW = reinterpret<f64>(0x40862E42FEFA39EF);
const UNDERFLOW = reinterpret<f64>(0xC0874910D52D3051);

export function exp64(x: f64): f64 {
  let hx = <u32>(reinterpret<u64>(x) >> 32);
  const sign = hx >> 31;
  hx &= 0x7FFFFFFF;
  if (hx >= 0x4086232B) {
    if (isNaN(x)) return x;
    if (x > OVERFLOW) return Infinity;
    if (x < UNDERFLOW) return 0;
  }
  let hi: f64 = 0, lo: f64 = 0;
  let k = 0;
  if (hx > 0x3FD62E42) {
    if (hx >= 0x3FF0A2B2) k = <i32>(INVLN2 * x + copysign<f64>(0.5, x));
    else k = 1 - <i32>(sign << 1);
    hi = x - <f64>k * LN2HI;
    lo = <f64>k * LN2LO;
    x = hi - lo;
  } else if (hx > 0x3E300000) {
    hi = x;
  } else return 1.0 + x;
  const xs = x * x;
  const c = x - xs * (P1 + xs * (P2 + xs * (P3 + xs * (P4 + xs * P5))));
  const y = 1.0 + (x * c / (2 - c) - lo + hi);
  return k == 0 ? y : NativeMath.scalbn(y, k);
}

export function log1p64(x: f64): f64 {
  return NativeMath.log1p(x);
}
