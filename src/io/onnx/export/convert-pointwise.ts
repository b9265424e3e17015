import { PointwiseLayer } from '../../../nn/pointwise-layer.js';
import { paramValue, type OnnxEmitter, type PointwiseDeclaration } from '../../../ops/pointwise/declare.js';
import { exportError, nodeName, registerOnnxConverter, type ExportContext } from './converter.js';

/**
 * Every declared pointwise layer (src/ops/pointwise/table.ts), from its declaration: the ONNX
 * operator with the parameter and fixed attributes, or the declared decomposition where the
 * export's opset is older than the operator (or ONNX has none).
 */

function emitter(ctx: ExportContext, base: string): OnnxEmitter {
  return {
    opset: ctx.opset,
    node: (op, inputs, attrs = {}) =>
      ctx.b.node(op, inputs, Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, typeof v === 'string' ? { s: v } : { f: v }])), `${base}.${op}`),
    scalar: (v) => ctx.b.scalar(v),
  };
}

/** The op's node(s) for input `x` with the formulas' parameter `a`. */
export function emitPointwise(ctx: ExportContext, decl: PointwiseDeclaration, x: string, a: number): string {
  const { onnx, param } = decl;
  const name = nodeName(ctx, decl.onnx.op || decl.layer);
  if (!onnx.op || ctx.opset < onnx.since) {
    if (!onnx.decompose) {
      throw exportError(ctx, decl.layer, `ONNX's ${onnx.op} needs opset ${onnx.since} or later; export with opset >= ${onnx.since}`);
    }
    return onnx.decompose(emitter(ctx, name), x, a);
  }
  const attrs: Record<string, { f: number } | { s: string }> = {};
  for (const [k, v] of Object.entries(onnx.fixed ?? {})) attrs[k] = { f: v };
  if (param && onnx.param) attrs[onnx.param] = param.choices ? { s: param.choices[a]! } : { f: a };
  return ctx.b.node(onnx.op, [x], attrs, name);
}

registerOnnxConverter(PointwiseLayer, (layer, { x }, ctx) => {
  const decl = (layer.constructor as unknown as { fn: { declaration: PointwiseDeclaration } }).fn.declaration;
  const a = decl.param ? paramValue(decl, (layer as unknown as Record<string, unknown>)[decl.param.name]) : 0;
  return emitPointwise(ctx, decl, x.name, a);
});
