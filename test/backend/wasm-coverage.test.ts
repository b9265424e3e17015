import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

/*
 * The wasm backend's coverage, pinned: a kernel left to the js fallback makes every network
 * that uses it slow (DESIGN.md: a finished backend's coverage is complete).
 */
describe('wasm backend coverage', () => {
  it('implements every kernel itself: nothing falls back to js', () => {
    expect(ck.kernelCoverage('wasm').fallback).toEqual([]);
    expect(ck.kernelCoverage('wasm').own.length).toBeGreaterThan(40);
  });
});
