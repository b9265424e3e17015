import { beforeAll, describe } from 'vitest';
import * as ck from '../../src/index.js';

/**
 * Runs a block of tests once per registered backend, with that backend selected.
 * Op tests use this so that every backend meets the same cases and tolerances.
 */
export function describeEachBackend(title: string, body: (backend: string) => void): void {
  for (const name of ck.listBackends()) {
    describe(`${title} [${name}]`, () => {
      // Selected while collecting (for code in describe bodies) and again before the tests run,
      // since collection of later blocks changes it.
      ck.setBackendSync(name);
      beforeAll(() => ck.setBackendSync(name));
      body(name);
    });
  }
}
