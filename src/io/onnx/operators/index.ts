import { activationOperators } from './activations.js';
import { constantOperators } from './constants.js';
import { convOperators } from './conv.js';
import { elementwiseOperators } from './elementwise.js';
import { gemmOperators } from './gemm.js';
import { normOperators } from './norm.js';
import type { OperatorDef } from './op-types.js';
import { padOperators } from './pad.js';
import { poolOperators } from './pool.js';
import { reduceOperators } from './reduce.js';
import { shapeOperators } from './shape-ops.js';
import { softmaxOperators } from './softmax.js';

/** Every ONNX operator (default domain) convkit imports, by op_type. */
export const operators: ReadonlyMap<string, OperatorDef> = new Map(
  Object.entries({
    ...convOperators,
    ...poolOperators,
    ...normOperators,
    ...gemmOperators,
    ...elementwiseOperators,
    ...activationOperators,
    ...softmaxOperators,
    ...shapeOperators,
    ...constantOperators,
    ...padOperators,
    ...reduceOperators,
  }),
);

/** Opsets of the default domain whose operator semantics convkit implements. */
export const MIN_OPSET = 6;
export const MAX_OPSET = 21;

/** The ONNX operator types the importer supports, sorted. */
export function supportedOperators(): string[] {
  return [...operators.keys()].sort();
}

export type { OperatorDef } from './op-types.js';
