import type { Module } from '../../../nn/module.js';
import { ConvkitError } from '../../../tensor/errors.js';
import type { Tensor } from '../../../tensor/tensor.js';
import type { GraphBuilder } from './graph-builder.js';

/**
 * What a layer converter is given and returns. Export traces the model on a real input (one
 * item), so every value carries both its ONNX name and the activation convkit computed for
 * it: converters read sizes from the tensors instead of re-deriving each layer's geometry.
 */

/** A value of the exported graph: its ONNX name and convkit's activation (batch 1). */
export interface Value {
  name: string;
  t: Tensor;
}

export interface ExportContext {
  readonly b: GraphBuilder;
  readonly opset: number;
  /** Dotted path of the module being converted ('' for the root), for names and errors. */
  readonly path: string;
}

/** One layer's call: its input value and the output convkit computed for it. */
export interface LayerCall {
  x: Value;
  y: Tensor;
}

/** Emits the nodes for one call of `layer` and returns the ONNX name of its output. */
export type Converter<M extends Module = Module> = (layer: M, call: LayerCall, ctx: ExportContext) => string;

type LayerClass<M extends Module> = abstract new (...args: never[]) => M;

const converters = new Map<Function, Converter>();

/**
 * Registers how a layer class becomes ONNX nodes (custom layers: register yours to make
 * models that use it exportable). A subclass without its own converter uses its parent's.
 */
export function registerOnnxConverter<M extends Module>(cls: LayerClass<M>, convert: Converter<M>): void {
  if (typeof cls !== 'function' || typeof convert !== 'function') {
    throw new ConvkitError('registerOnnxConverter(LayerClass, convert): expected a class and a function');
  }
  converters.set(cls, convert as Converter);
}

/** The converter for this module's class or its nearest registered ancestor. */
export function converterFor(m: Module): Converter | undefined {
  for (let proto: object | null = Object.getPrototypeOf(m); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    const c = converters.get((proto as { constructor: Function }).constructor);
    if (c) return c;
  }
  return undefined;
}

/** An error that names the layer being exported. */
export function exportError(ctx: ExportContext, typeName: string, message: string): ConvkitError {
  return new ConvkitError(`ONNX export: ${ctx.path || 'model'} (${typeName}): ${message}`);
}

/** A readable initializer or node name under the layer's path. */
export function named(ctx: ExportContext, suffix: string): string {
  return ctx.path ? `${ctx.path}.${suffix}` : suffix;
}

/** The node name for the layer itself (its path, or the op type for the root). */
export function nodeName(ctx: ExportContext, op: string): string {
  return ctx.path || op;
}
