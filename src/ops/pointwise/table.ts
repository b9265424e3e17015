import { clamp } from '../activations.js';
import { add, mul } from '../binary.js';
import { pointwise } from './declare.js';

/**
 * Every pointwise op with a layer, declared once: formulas (in float64, as the kernels evaluate
 * them; the derivative from input x and output y), parameter, layer name, ONNX form, PyTorch
 * name. Adding one here gives F.<name>, nn.<Layer> (one line in src/nn/pointwise.ts), ONNX
 * import and export, the kernels and the test rows; its PyTorch fixture rows come from
 * `/usr/bin/python3 scripts/fixtures/make_torch_fixtures.py pointwise`. A SIMD formula for the
 * wasm kernel is optional (`simd`: a UOP code 40-59 in job-layout.ts and assembly/unary.ts);
 * without one wasm runs `forward`/`derivative` as given. relu (in-place form, fused
 * epilogues), softplus and hardtanh (two parameters) keep their own kernels and files.
 */

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/*
 * The webgpu kernel's formulas (`wgsl`): each is one f32 expression in x, y and a (no
 * statements), so the shared pieces below are spliced in as text. Each stays finite and exact
 * in both tails: exponentials only of non-positive arguments, series where a difference would
 * cancel, and no constant infinities (they do not compile).
 */
/** exp(v) - 1: its Taylor series near 0 (where exp(v) - 1 cancels), v <= 0 given. */
const wExpm1 = (v: string): string =>
  `select(exp(${v}) - 1.0, ${v} * (1.0 + ${v} * (0.5 + ${v} * (0.16666667 + ${v} * (0.041666668 + ${v} * (0.008333334 + ${v} * 0.0013888889))))), abs(${v}) < 0.2)`;
/** 1 / (1 + e^-v) from e^-|v|, which never overflows. */
const wSigmoid = (v: string): string => `select(exp(-abs(${v})) / (1.0 + exp(-abs(${v}))), 1.0 / (1.0 + exp(-abs(${v}))), ${v} >= 0.0)`;
/** tanh v: its series near 0, else sign(v) (1 - e^-2|v|) / (1 + e^-2|v|) (drivers' tanh may overflow to NaN). */
const wTanh = (v: string): string => {
  const v2 = `(${v} * ${v})`;
  const e = `exp(-2.0 * abs(${v}))`;
  return `select(sign(${v}) * (1.0 - ${e}) / (1.0 + ${e}), ${v} * (1.0 + ${v2} * (-0.33333334 + ${v2} * (0.13333334 + ${v2} * (-0.053968254 + ${v2} * 0.021869488)))), abs(${v}) < 0.3)`;
};
/**
 * The standard normal CDF: erfc by Numerical Recipes' Chebyshev fit (fractional error below
 * 1.2e-7 everywhere, so both tails keep their relative accuracy), Phi(x) = erfc(-x / sqrt 2) / 2.
 */
const wNormalCdf = (() => {
  const z = '(abs(x) * 0.70710678)';
  const t = `(1.0 / (1.0 + 0.5 * ${z}))`;
  const c = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277];
  let poly = `${c[9]}`;
  for (let k = 8; k >= 1; k--) poly = `${c[k]} + ${t} * (${poly})`;
  const erfc = `(${t} * exp(-${z} * ${z} + ${c[0]} + ${t} * (${poly})))`;
  return `select(1.0 - 0.5 * ${erfc}, 0.5 * ${erfc}, x < 0.0)`;
})();

/** x where x > 0, else negativeSlope * x (default 0.01). */
export const leakyRelu = pointwise<{ negativeSlope?: number }>({
  name: 'leakyRelu',
  doc: 'x where x > 0, else negativeSlope * x (default 0.01)',
  forward: (x, a) => (x > 0 ? x : a * x),
  derivative: (x, _y, a) => (x > 0 ? 1 : a),
  param: { name: 'negativeSlope', default: 0.01, samples: [0.2] },
  layer: 'LeakyReLU',
  onnx: { op: 'LeakyRelu', since: 6, param: 'alpha' },
  torch: { fn: 'leaky_relu', param: 'negative_slope' },
  wgsl: { forward: 'select(a * x, x, x > 0.0)', derivative: 'select(a, 1.0, x > 0.0)' },
  kinks: [0],
  simd: 2,
  cheap: true,
});

/** x where x > 0, else alpha * (e^x - 1) (default alpha 1). */
export const elu = pointwise<{ alpha?: number }>({
  name: 'elu',
  doc: 'x where x > 0, else alpha * (e^x - 1) (default alpha 1)',
  forward: (x, a) => (x > 0 ? x : a * Math.expm1(x)),
  derivative: (x, y, a) => (x > 0 ? 1 : y + a),
  param: { name: 'alpha', default: 1, samples: [0.5] },
  layer: 'ELU',
  onnx: { op: 'Elu', since: 6, param: 'alpha' },
  torch: { fn: 'elu', param: 'alpha' },
  wgsl: { forward: `select(a * ${wExpm1('min(x, 0.0)')}, x, x > 0.0)`, derivative: 'select(y + a, 1.0, x > 0.0)' },
  kinks: [0],
  simd: 3,
});

/** scale * elu(x, alpha) with the self-normalizing constants (alpha 1.6733, scale 1.0507). */
export const selu = pointwise({
  name: 'selu',
  doc: 'scale * elu(x, alpha) with the self-normalizing constants (alpha 1.6733, scale 1.0507)',
  forward: (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
  derivative: (x) => (x > 0 ? SELU_SCALE : SELU_SCALE * SELU_ALPHA * Math.exp(x)),
  layer: 'SELU',
  onnx: {
    op: 'Selu',
    since: 6,
    fixed: { alpha: SELU_ALPHA, gamma: SELU_SCALE },
    general: (x, a) => mul(elu(x, { alpha: a.alpha! }), a.gamma!),
  },
  torch: { fn: 'selu' },
  wgsl: {
    forward: `${SELU_SCALE} * select(${SELU_ALPHA} * ${wExpm1('min(x, 0.0)')}, x, x > 0.0)`,
    derivative: `select(${SELU_SCALE * SELU_ALPHA} * exp(min(x, 0.0)), ${SELU_SCALE}, x > 0.0)`,
  },
  kinks: [0],
  simd: 4,
});

/** 1 / (1 + e^-x). */
export const sigmoid = pointwise({
  name: 'sigmoid',
  doc: '1 / (1 + e^-x)',
  forward: (x) => 1 / (1 + Math.exp(-x)),
  derivative: (_x, y) => y * (1 - y),
  layer: 'Sigmoid',
  onnx: { op: 'Sigmoid', since: 6 },
  torch: { fn: 'sigmoid' },
  wgsl: { forward: wSigmoid('x'), derivative: 'y * (1.0 - y)' },
  simd: 5,
});

/** tanh x. */
export const tanh = pointwise({
  name: 'tanh',
  doc: 'tanh x',
  forward: Math.tanh,
  derivative: (_x, y) => 1 - y * y,
  layer: 'Tanh',
  onnx: { op: 'Tanh', since: 6 },
  torch: { fn: 'tanh' },
  wgsl: { forward: wTanh('x'), derivative: '1.0 - y * y' },
  simd: 6,
});

/**
 * erf a = a S(a^2) for |a| < 2, S as a Chebyshev series in u = a^2 / 2 - 1 (degree 15, from
 * interpolating glibc's erf at 30 Chebyshev points: scripts/fit-erf.py). Relative error
 * 3.4e-15 on erf, 6.6e-13 on 1 - erf up to a = 2; 16 multiply-adds where the Maclaurin series
 * it replaces took up to 40 terms of two divisions each (GELU ran at 70 ns an element).
 */
const ERF_CHEB = [
  0.7415552820424018, -0.30107107338659483, 0.06899483068983146, -0.013916271264722162,
  0.0024207995224336067, -0.0003658639685847416, 4.862098443214613e-05, -5.749256557881684e-06,
  6.113243578020899e-07, -5.899101542065447e-08, 5.207008949940454e-09, -4.232966199779753e-10,
  3.188061666511051e-11, -2.2364258593180846e-12, 1.468158927764307e-13, -9.792167077193881e-15,
];
function erfSmall(a: number): number {
  const u = 0.5 * a * a - 1;
  const u2 = 2 * u;
  // Clenshaw's recurrence.
  let b1 = 0;
  let b2 = 0;
  for (let j = ERF_CHEB.length - 1; j >= 1; j--) {
    const b0 = u2 * b1 - b2 + ERF_CHEB[j]!;
    b2 = b1;
    b1 = b0;
  }
  return a * (u * b1 - b2 + ERF_CHEB[0]!);
}

/** erfc x for x >= 0: 1 - erf below 2, the continued fraction above (no cancellation in the tail). */
function erfc(a: number): number {
  if (!(a >= 2)) return 1 - erfSmall(a);
  let f = 0;
  for (let k = 40; k >= 1; k--) f = k / 2 / (a + f);
  return Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f);
}

/** The standard normal CDF, accurate in both tails. */
const normalCdf = (x: number): number => (x < 0 ? 0.5 * erfc(-x * Math.SQRT1_2) : 1 - 0.5 * erfc(x * Math.SQRT1_2));
const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/** u of GELU's tanh form: sqrt(2/pi) (x + 0.044715 x^3). */
const geluU = (x: number): number => GELU_K * (x + GELU_C * x * x * x);

/**
 * x * Phi(x), Phi the standard normal CDF; approximate 'tanh' (PyTorch's approximate='tanh'):
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
 */
export const gelu = pointwise<{ approximate?: 'none' | 'tanh' }>({
  name: 'gelu',
  doc: "x * Phi(x) (Phi: the standard normal CDF); approximate 'tanh': 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))",
  // The tanh form as x sigmoid(2u) (0.5 (1 + tanh u) = sigmoid(2u), 1 - tanh^2 u = 4 sigmoid(2u)
  // sigmoid(-2u)): 1 + tanh u cancels to nothing in the left tail, the sigmoids do not.
  forward: (x, a) => (a === 1 ? x / (1 + Math.exp(-2 * geluU(x))) : x * normalCdf(x)),
  derivative: (x, _y, a) => {
    if (a !== 1) return normalCdf(x) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);
    const u = geluU(x);
    const s = 1 / (1 + Math.exp(-2 * u)), sm = 1 / (1 + Math.exp(2 * u));
    return s + 2 * x * s * sm * GELU_K * (1 + 3 * GELU_C * x * x);
  },
  param: { name: 'approximate', default: 'none', choices: ['none', 'tanh'], samples: ['tanh'] },
  layer: 'GELU',
  onnx: {
    op: 'Gelu',
    since: 20,
    param: 'approximate',
    // Before opset 20: 0.5 x (1 + erf(x / sqrt 2)), or the tanh form, from older operators.
    decompose: (g, x, a) => {
      const half = g.node('Mul', [x, g.scalar(0.5)]);
      let inner: string;
      if (a === 1) {
        const cube = g.node('Mul', [g.node('Mul', [x, x]), x]);
        const u = g.node('Mul', [g.node('Add', [x, g.node('Mul', [cube, g.scalar(GELU_C)])]), g.scalar(GELU_K)]);
        inner = g.node('Tanh', [u]);
      } else {
        inner = g.node('Erf', [g.node('Mul', [x, g.scalar(Math.SQRT1_2)])]);
      }
      return g.node('Mul', [half, g.node('Add', [inner, g.scalar(1)])]);
    },
  },
  torch: { fn: 'gelu', param: 'approximate' },
  simd: 45,
  // The tanh form as x sigmoid(2u): 0.5 (1 + tanh u) = sigmoid(2u), 1 - tanh^2 u = 4 sigmoid(2u) sigmoid(-2u).
  wgsl: (() => {
    const u2 = `(${2 * GELU_K} * (x + ${GELU_C} * x * x * x))`;
    const s = wSigmoid(u2);
    const sm = wSigmoid(`(-${u2})`);
    return {
      forward: `select(x * ${wNormalCdf}, x * ${s}, a == 1.0)`,
      derivative: `select(${wNormalCdf} + x * exp(-0.5 * x * x) * ${1 / Math.sqrt(2 * Math.PI)}, ${s} + 2.0 * x * ${s} * ${sm} * ${GELU_K} * (1.0 + ${3 * GELU_C} * x * x), a == 1.0)`,
    };
  })(),
});

/** x * sigmoid(x) (Swish with beta 1). ONNX has no operator for it: Mul(x, Sigmoid(x)). */
export const silu = pointwise({
  name: 'silu',
  doc: 'x * sigmoid(x) (Swish)',
  forward: (x) => x / (1 + Math.exp(-x)),
  derivative: (x) => {
    const s = 1 / (1 + Math.exp(-x));
    return s * (1 + x * (1 - s));
  },
  layer: 'SiLU',
  onnx: { op: '', since: 6, decompose: (g, x) => g.node('Mul', [x, g.node('Sigmoid', [x])]) },
  torch: { fn: 'silu' },
  wgsl: { forward: `x * ${wSigmoid('x')}`, derivative: `${wSigmoid('x')} * (1.0 + x * ${wSigmoid('(-x)')})` },
  simd: 40,
});

/**
 * PyTorch's hardsigmoid: 0 below -3, 1 above 3, x / 6 + 1/2 between (ONNX's HardSigmoid with
 * alpha 1/6, beta 1/2; ONNX's own defaults are 0.2 and 0.5, so the attributes are written, and
 * other values import as clamp(alpha x + beta, 0, 1)).
 */
export const hardsigmoid = pointwise({
  name: 'hardsigmoid',
  doc: '0 below -3, 1 above 3, x / 6 + 1/2 between',
  forward: (x) => (x <= -3 ? 0 : x >= 3 ? 1 : (x + 3) / 6),
  // PyTorch's: 1/6 strictly inside (-3, 3), 0 elsewhere.
  derivative: (x) => (x > -3 && x < 3 ? 1 / 6 : 0),
  layer: 'Hardsigmoid',
  onnx: {
    op: 'HardSigmoid',
    since: 6,
    fixed: { alpha: 1 / 6, beta: 0.5 },
    defaults: { alpha: 0.2 },
    general: (x, a) => clamp(add(mul(x, a.alpha!), a.beta!), 0, 1),
  },
  torch: { fn: 'hardsigmoid' },
  wgsl: { forward: 'select(select((x + 3.0) / 6.0, 1.0, x >= 3.0), 0.0, x <= -3.0)', derivative: 'select(0.0, 0.16666667, x > -3.0 && x < 3.0)' },
  kinks: [-3, 3],
  cheap: true,
  simd: 41,
});

/** x * hardsigmoid(x): 0 below -3, x above 3, x (x + 3) / 6 between (MobileNetV3). */
export const hardswish = pointwise({
  name: 'hardswish',
  doc: 'x * hardsigmoid(x): 0 below -3, x above 3, x (x + 3) / 6 between',
  forward: (x) => (x <= -3 ? 0 : x >= 3 ? x : (x * (x + 3)) / 6),
  // PyTorch's: 0 below -3, x / 3 + 1/2 on [-3, 3], 1 above.
  derivative: (x) => (x < -3 ? 0 : x <= 3 ? x / 3 + 0.5 : 1),
  layer: 'Hardswish',
  onnx: {
    op: 'HardSwish',
    since: 14,
    decompose: (g, x) => g.node('Mul', [x, g.node('HardSigmoid', [x], { alpha: 1 / 6, beta: 0.5 })]),
  },
  torch: { fn: 'hardswish' },
  wgsl: { forward: 'select(select(x * (x + 3.0) / 6.0, x, x >= 3.0), 0.0, x <= -3.0)', derivative: 'select(select(1.0, x / 3.0 + 0.5, x <= 3.0), 0.0, x < -3.0)' },
  kinks: [-3, 3],
  cheap: true,
  simd: 42,
});

/** log(1 + e^x), and x itself above 20 (PyTorch's softplus threshold, as mish uses it). */
const softplus20 = (x: number): number => (x > 20 ? x : Math.log1p(Math.exp(x)));

/** x * tanh(softplus(x)). */
export const mish = pointwise({
  name: 'mish',
  doc: 'x * tanh(softplus(x))',
  forward: (x) => x * Math.tanh(softplus20(x)),
  derivative: (x) => {
    const t = Math.tanh(softplus20(x));
    return t + (x * (1 - t * t)) / (1 + Math.exp(-x));
  },
  layer: 'Mish',
  onnx: {
    op: 'Mish',
    since: 18,
    decompose: (g, x) => g.node('Mul', [x, g.node('Tanh', [g.node('Softplus', [x])])]),
  },
  torch: { fn: 'mish' },
  // tanh(log(1 + e^x)) = n / (n + 2) with n = e^x (e^x + 2): no cancellation; 1 - t = 2 / (n + 2).
  // Above 20 softplus is x and t is 1 in float32, which e^20 already gives.
  wgsl: (() => {
    const n = '(exp(min(x, 20.0)) * (exp(min(x, 20.0)) + 2.0))';
    const t = `(${n} / (${n} + 2.0))`;
    return { forward: `x * ${t}`, derivative: `${t} + x * (2.0 / (${n} + 2.0)) * (1.0 + ${t}) * ${wSigmoid('x')}` };
  })(),
  simd: 44,
});

/** min(max(x, 0), 6); NaN stays NaN, as in PyTorch (hardtanh(x, 0, 6)). */
export const relu6 = pointwise({
  name: 'relu6',
  doc: 'min(max(x, 0), 6)',
  forward: (x) => (x > 0 ? Math.min(x, 6) : x <= 0 ? 0 : x),
  // PyTorch's (hardtanh's): 1 strictly inside (0, 6), 0 elsewhere.
  derivative: (x) => (x > 0 && x < 6 ? 1 : 0),
  layer: 'ReLU6',
  // ONNX has no operator of its own: Clip to [0, 6] (bounds as inputs from opset 11, attributes before).
  onnx: {
    op: '',
    since: 6,
    decompose: (g, x) => (g.opset >= 11 ? g.node('Clip', [x, g.scalar(0), g.scalar(6)]) : g.node('Clip', [x], { min: 0, max: 6 })),
  },
  torch: { fn: 'relu6' },
  wgsl: { forward: 'select(0.0, min(x, 6.0), x > 0.0)', derivative: 'select(0.0, 1.0, x > 0.0 && x < 6.0)' },
  kinks: [0, 6],
  cheap: true,
  simd: 43,
});
