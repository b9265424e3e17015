import type { KernelSignatures } from '../kernels.js';
import { registerReferenceBackend } from '../registry.js';
import { binary, reduce, unary, unaryGrad } from './elementwise.js';

/**
 * The reference backend: every kernel, in plain TypeScript written for clarity. This list is
 * its whole coverage; the type makes leaving a kernel out a compile error.
 */
const kernels: KernelSignatures = {
  // elementwise.ts
  Unary: unary,
  UnaryGrad: unaryGrad,
  Binary: binary,
  Reduce: reduce,
};

registerReferenceBackend({ name: 'js', kernels });
