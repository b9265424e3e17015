import * as F from '../ops/pointwise/table.js';
import { pointwiseLayer } from './pointwise-layer.js';

/**
 * The layers of the pointwise ops declared in src/ops/pointwise/table.ts: one line each (an
 * ES module's names cannot be computed), the type beside the class.
 */
export const LeakyReLU = pointwiseLayer(F.leakyRelu);
export type LeakyReLU = InstanceType<typeof LeakyReLU>;
export const ELU = pointwiseLayer(F.elu);
export type ELU = InstanceType<typeof ELU>;
export const SELU = pointwiseLayer(F.selu);
export type SELU = InstanceType<typeof SELU>;
export const Sigmoid = pointwiseLayer(F.sigmoid);
export type Sigmoid = InstanceType<typeof Sigmoid>;
export const Tanh = pointwiseLayer(F.tanh);
export type Tanh = InstanceType<typeof Tanh>;
export const GELU = pointwiseLayer(F.gelu);
export type GELU = InstanceType<typeof GELU>;
export const SiLU = pointwiseLayer(F.silu);
export type SiLU = InstanceType<typeof SiLU>;
export const Hardsigmoid = pointwiseLayer(F.hardsigmoid);
export type Hardsigmoid = InstanceType<typeof Hardsigmoid>;
export const Hardswish = pointwiseLayer(F.hardswish);
export type Hardswish = InstanceType<typeof Hardswish>;
export const Mish = pointwiseLayer(F.mish);
export type Mish = InstanceType<typeof Mish>;
export const ReLU6 = pointwiseLayer(F.relu6);
export type ReLU6 = InstanceType<typeof ReLU6>;
