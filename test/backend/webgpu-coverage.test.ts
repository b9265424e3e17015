import { describe, expect, it } from 'vitest';
import * as ck from '../../src/node.js';
import { startWebgpu } from '../helpers/webgpu.js';

/*
 * The webgpu backend implements every kernel of KernelSignatures itself: a kernel it lacked
 * would throw on webgpu (a device backend cannot fall back to js, whose kernels read host
 * arrays), so this pins the table complete once the backend has started.
 */

const why = await startWebgpu();

describe.skipIf(why !== null)('webgpu kernel coverage', () => {
  it('has its own kernel for every kernel of the js reference and no fallback', () => {
    const coverage = ck.kernelCoverage('webgpu');
    expect(coverage.fallback).toEqual([]);
    const all = ck.kernelCoverage('js').own;
    expect(all.length).toBeGreaterThan(40);
    expect([...coverage.own].sort()).toEqual([...all].sort());
  });
});
