import { mul } from '../binary.js';
import { pointwise } from './declare.js';

/**
 * Every pointwise op with a layer, declared once: formulas (in float64, as the kernels evaluate
 * them; the derivative from input x and output y), parameter, layer name, ONNX form, PyTorch
 * name. Adding one here gives F.<name>, nn.<Layer> (one line in src/nn/pointwise.ts), ONNX
 * import and export, the kernels and the test rows (a PyTorch fixture: run
 * scripts/fixtures/make_torch_fixtures.py). relu (in-place form, fused epilogues), softplus and
 * hardtanh (two parameters) keep their own kernels and files.
 */

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

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
  simd: 6,
});
