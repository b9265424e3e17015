import { describe } from 'vitest';
import * as ck from '../../src/index.js';

/**
 * Runs a block of tests once per registered backend, with that backend selected.
 * Op tests use this so that every backend meets the same cases and tolerances.
 */
export function describeEachBackend(title: string, body: (backend: string) => void): void {
  for (const name of ck.listBackends()) {
    describe(`${title} [${name}]`, () => {
      // Selection happens while collecting, so set it again before each test file's tests run.
      ck.setBackendSync(name);
      body(name);
    });
  }
}
