import type { PointwiseFn } from '../ops/pointwise/declare.js';
import { paramValue } from '../ops/pointwise/declare.js';
import { checkOptionNames } from '../ops/conv-args.js';
import type { Tensor } from '../tensor/tensor.js';
import { ElementwiseLayer } from './elementwise-layer.js';
import { register } from './registry.js';

/** The layer of a declared pointwise op (src/ops/pointwise/table.ts); its options are the F function's. */
export abstract class PointwiseLayer extends ElementwiseLayer {}

/** A layer class whose instances expose the option as a field (LeakyReLU's negativeSlope). */
export type PointwiseLayerClass<O extends object> = (new (opts?: O) => PointwiseLayer & Readonly<Required<O>>) & { readonly fn: PointwiseFn<O> };

/**
 * The layer class of a declared op, registered under the declaration's layer name (for
 * save/load and ONNX). Its config is the options as given, its description `Name(option=value)`.
 */
export function pointwiseLayer<O extends object>(fn: PointwiseFn<O>): PointwiseLayerClass<O> {
  const decl = fn.declaration;
  const param = decl.param;
  const cls = class extends PointwiseLayer {
    static readonly fn = fn;

    constructor(opts: O = {} as O) {
      super();
      checkOptionNames(opts, param ? [param.name] : [], decl.layer);
      if (param) {
        const given = (opts as Record<string, unknown>)[param.name];
        paramValue(decl, given, decl.layer);
        Object.defineProperty(this, param.name, { value: given ?? param.default, enumerable: true });
      }
      this.configArgs = param ? [{ ...opts }] : [];
    }

    forward(x: Tensor): Tensor {
      return fn(x, (param ? { [param.name]: (this as unknown as Record<string, unknown>)[param.name] } : undefined) as O | undefined);
    }

    override describe(): string {
      if (!param) return `${decl.layer}()`;
      const v = (this as unknown as Record<string, unknown>)[param.name];
      return `${decl.layer}(${param.name}=${typeof v === 'string' ? `'${v}'` : String(v)})`;
    }
  };
  Object.defineProperty(cls, 'name', { value: decl.layer });
  register(decl.layer, cls);
  return cls as unknown as PointwiseLayerClass<O>;
}
