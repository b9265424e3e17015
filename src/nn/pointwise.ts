import * as F from '../ops/pointwise/table.js';
import { pointwiseLayer } from './pointwise-layer.js';

/**
 * The layers of the pointwise ops declared in src/ops/pointwise/table.ts: one line each (an
 * ES module's names cannot be computed), the type beside the class.
 */
/** The layer of x where x > 0, else negativeSlope * x (F.leakyRelu). */
export const LeakyReLU = pointwiseLayer(F.leakyRelu);
/** An instance of LeakyReLU. */
export type LeakyReLU = InstanceType<typeof LeakyReLU>;
/** The layer of x where x > 0, else alpha * (e^x - 1) (F.elu). */
export const ELU = pointwiseLayer(F.elu);
/** An instance of ELU. */
export type ELU = InstanceType<typeof ELU>;
/** The layer of scaled ELU with the self-normalizing constants (F.selu). */
export const SELU = pointwiseLayer(F.selu);
/** An instance of SELU. */
export type SELU = InstanceType<typeof SELU>;
/** The layer of 1 / (1 + e^-x) (F.sigmoid). */
export const Sigmoid = pointwiseLayer(F.sigmoid);
/** An instance of Sigmoid. */
export type Sigmoid = InstanceType<typeof Sigmoid>;
/** The layer of hyperbolic tangent (F.tanh). */
export const Tanh = pointwiseLayer(F.tanh);
/** An instance of Tanh. */
export type Tanh = InstanceType<typeof Tanh>;
/** The layer of x * Phi(x), exact or with approximate: 'tanh' (F.gelu). */
export const GELU = pointwiseLayer(F.gelu);
/** An instance of GELU. */
export type GELU = InstanceType<typeof GELU>;
/** The layer of x * sigmoid(x), also called Swish (F.silu). */
export const SiLU = pointwiseLayer(F.silu);
/** An instance of SiLU. */
export type SiLU = InstanceType<typeof SiLU>;
/** The layer of clamp(x / 6 + 1/2, 0, 1) (F.hardsigmoid). */
export const Hardsigmoid = pointwiseLayer(F.hardsigmoid);
/** An instance of Hardsigmoid. */
export type Hardsigmoid = InstanceType<typeof Hardsigmoid>;
/** The layer of x * hardsigmoid(x) (F.hardswish). */
export const Hardswish = pointwiseLayer(F.hardswish);
/** An instance of Hardswish. */
export type Hardswish = InstanceType<typeof Hardswish>;
/** The layer of x * tanh(softplus(x)) (F.mish). */
export const Mish = pointwiseLayer(F.mish);
/** An instance of Mish. */
export type Mish = InstanceType<typeof Mish>;
/** The layer of min(max(x, 0), 6) (F.relu6). */
export const ReLU6 = pointwiseLayer(F.relu6);
/** An instance of ReLU6. */
export type ReLU6 = InstanceType<typeof ReLU6>;
