import { afterEach } from 'vitest';
import * as ck from '../../src/index.js';
import { getBackend } from '../../src/backend/registry.js';
import type { KernelName } from '../../src/backend/kernels.js';

const restores: (() => void)[] = [];

/** Puts the kernel tables back after each test of a file that counts calls. */
export function restoreKernelsAfterEach(): void {
  afterEach(() => {
    while (restores.length) restores.pop()!();
  });
}

/**
 * Counts calls of kernels (the backend's own, or the js ones it falls back to) until the test
 * ends (call restoreKernelsAfterEach() once in the file): shows which kernels a model ran, e.g.
 * that a folded batch norm ran no BatchNorm kernel.
 */
export function countCalls(names: KernelName[]): Map<string, number> {
  type Table = Record<string, (...a: unknown[]) => unknown>;
  const current = ck.getBackendName();
  const own = getBackend().kernels as Table;
  ck.setBackendSync('js');
  const reference = getBackend().kernels as Table;
  ck.setBackendSync(current);
  const counts = new Map<string, number>(names.map((n) => [n, 0]));
  for (const name of names) {
    const table = own[name] ? own : reference;
    const fn = table[name]!;
    table[name] = (...a: unknown[]) => {
      counts.set(name, counts.get(name)! + 1);
      return fn(...a);
    };
    restores.push(() => (table[name] = fn));
  }
  return counts;
}
