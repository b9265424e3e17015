import { beforeAll, describe } from 'vitest';
import * as ck from '../../src/index.js';

/**
 * Runs a block of tests once per registered backend, with that backend selected.
 * Op tests use this so that every backend meets the same cases and tolerances.
 */
/**
 * The backends whose tensors synchronous tests can read: all but webgpu, which keeps values on
 * the GPU; its kernels have their own tests (test/backend/webgpu-*.test.ts), against the js ones,
 * and the PyTorch fixture table (test/ops/torch-fixtures.test.ts) runs on it with `await t.data()`.
 */
export function hostBackends(): string[] {
  return ck.listBackends().filter((b) => b !== 'webgpu');
}

export function describeEachBackend(title: string, body: (backend: string) => void): void {
  for (const name of hostBackends()) {
    describe(`${title} [${name}]`, () => {
      // Selected while collecting (for code in describe bodies) and again before the tests run,
      // since collection of later blocks changes it.
      ck.setBackendSync(name);
      beforeAll(() => ck.setBackendSync(name));
      body(name);
    });
  }
}
