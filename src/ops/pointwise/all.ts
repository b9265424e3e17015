import type { PointwiseDeclaration, PointwiseFn } from './declare.js';
import * as table from './table.js';

/** Every declared pointwise op (src/ops/pointwise/table.ts), in name order. */
export const POINTWISE_OPS: readonly PointwiseDeclaration[] = Object.values(table as Record<string, PointwiseFn<object>>).map((f) => f.declaration);

/** The F function of a declared op by its name. */
export function pointwiseFn(name: string): PointwiseFn<object> | undefined {
  return (table as Record<string, PointwiseFn<object> | undefined>)[name];
}
