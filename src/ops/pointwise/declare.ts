import type { PointwiseFormula } from '../../backend/kernels.js';
import { kernel } from '../../backend/registry.js';
import { record } from '../../autograd/tape.js';
import { ConvkitError } from '../../tensor/errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkOptionNames } from '../conv-args.js';
import { expectTensor, kinStrided, kout } from '../kernel-io.js';

/**
 * The shape of a pointwise (elementwise) op's one declaration (src/ops/pointwise/table.ts).
 * Everything else is derived from it: the `F.*` function (here), the `nn` layer
 * (src/nn/pointwise-layer.ts), ONNX import and export, the FC->CONV pointwise set, the kernels'
 * formula (js evaluates `forward`/`derivative`; wasm runs its SIMD formula where `simd` names
 * one, else the same scalar formula) and the test rows. The declarations sit in ops, not in
 * backend, because they also build the differentiable functions; the kernels receive the
 * formula as an argument (backend/kernels.ts PointwiseFormula), so nothing imports upwards.
 */

/** The op's one parameter: a number, or a named setting passed to the formulas as its index. */
export interface PointwiseParam {
  readonly name: string;
  readonly default: number | string;
  /** gelu's approximate: 'none' is 0, 'tanh' is 1 for the formulas. */
  readonly choices?: readonly string[];
  /** Values the tests try besides the default (PyTorch fixtures, gradchecks, ONNX round trips). */
  readonly samples?: readonly (number | string)[];
}

/** A graph builder for ONNX decompositions, implemented by the exporter (no io import here). */
export interface OnnxEmitter {
  readonly opset: number;
  node(op: string, inputs: readonly string[], attrs?: Readonly<Record<string, number | string>>): string;
  scalar(v: number): string;
}

export interface PointwiseOnnx {
  /** The ONNX operator and the first opset that has it ('' for a function ONNX has no operator for). */
  readonly op: string;
  readonly since: number;
  /** The attribute that carries the parameter (LeakyRelu's alpha is negativeSlope). */
  readonly param?: string;
  /** Attributes written on export; on import, other values go to `general` (HardSigmoid's alpha, beta). */
  readonly fixed?: Readonly<Record<string, number>>;
  /** ONNX's defaults for fixed attributes a node may leave out, where they are not convkit's (HardSigmoid's alpha 0.2). */
  readonly defaults?: Readonly<Record<string, number>>;
  /** The same function from older operators: exported below `since` (or always when op is ''). */
  readonly decompose?: (g: OnnxEmitter, x: string, a: number) => string;
  /** Import of the operator with other `fixed` attributes than convkit's, from convkit ops. */
  readonly general?: (x: Tensor, attrs: Readonly<Record<string, number>>) => Tensor;
}

export interface PointwiseDeclaration extends PointwiseFormula {
  /** One line for the F function's and the layer's documentation. */
  readonly doc: string;
  readonly param?: PointwiseParam;
  /** The nn layer's registered name (PyTorch's class name). */
  readonly layer: string;
  readonly onnx: PointwiseOnnx;
  /** torch.nn.functional's name for the fixtures, and its keyword for the parameter. */
  readonly torch: { readonly fn: string; readonly param?: string };
  /** Inputs where the derivative jumps: finite differences stay away from them. */
  readonly kinks?: readonly number[];
}

/** A declared op's F function, carrying its declaration. */
export type PointwiseFn<O extends object = Record<never, never>> = ((x: Tensor, opts?: O) => Tensor) & {
  readonly declaration: PointwiseDeclaration;
};

/** The formulas' `a` for a parameter value (a choice's index), or an error naming the op. */
export function paramValue(decl: PointwiseDeclaration, v: unknown, who = decl.name): number {
  const p = decl.param;
  if (!p) return 0;
  const value = v ?? p.default;
  if (p.choices) {
    const i = typeof value === 'string' ? p.choices.indexOf(value) : -1;
    if (i < 0) throw new ConvkitError(`${who}: ${p.name} must be ${p.choices.map((c) => `'${c}'`).join(' or ')}, got ${JSON.stringify(v)}`);
    return i;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ConvkitError(`${who}: ${p.name} must be a finite number, got ${String(v)}`);
  }
  return value;
}

/** The F function of a declaration: y through the Unary kernel, the backward from x and y (UnaryGrad). */
export function pointwise<O extends object = Record<never, never>>(decl: PointwiseDeclaration): PointwiseFn<O> {
  const names = decl.param ? [decl.param.name] : [];
  const fn = (x: Tensor, opts?: O): Tensor => {
    expectTensor(x, decl.name, 'input');
    checkOptionNames(opts, names, decl.name);
    const a = paramValue(decl, decl.param ? (opts as Record<string, unknown> | undefined)?.[decl.param.name] : undefined);
    const y = kout(kernel('Unary')(kinStrided(x, 'Unary', decl.name), decl, a), x.shape);
    return record(y, decl.name, [x], (g) => [kout(kernel('UnaryGrad')(kinStrided(x, 'UnaryGrad'), kinStrided(y, 'UnaryGrad'), kinStrided(g, 'UnaryGrad'), decl, a), x.shape)], [y]);
  };
  return Object.assign(fn, { declaration: decl });
}
