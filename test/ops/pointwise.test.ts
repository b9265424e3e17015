import { expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { POINTWISE_OPS, pointwiseFn } from '../../src/ops/pointwise/all.js';
import type { PointwiseDeclaration } from '../../src/ops/pointwise/declare.js';
import { UOP } from '../../src/backend/wasm/job-layout.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend } from '../helpers/backends.js';
import { gradcheck } from '../helpers/gradcheck.js';

/**
 * Every declared pointwise op (src/ops/pointwise/table.ts), row by row from its declaration:
 * F and the nn layer agree, gradients match finite differences (at each tested parameter),
 * the layer saves and rebuilds, bad options are refused. PyTorch values: the "pointwise"
 * fixture family (test/ops/torch-fixtures.test.ts); ONNX: test/io/onnx-pointwise.test.ts;
 * wasm against js: test/backend/wasm-elementwise.test.ts.
 */

/** The parameter settings a row is tested at: the default, then the declared samples. */
export function settings(d: PointwiseDeclaration): Record<string, number | string>[] {
  if (!d.param) return [{}];
  return [{}, ...(d.param.samples ?? []).map((v) => ({ [d.param!.name]: v }))];
}

/** Values over [-6, 6] (and a few beyond) kept at least 0.1 from the declared kinks. */
function input(d: PointwiseDeclaration, shape: number[], seed: number, requiresGrad: boolean): ck.Tensor {
  const v = ck.randn(shape, { seed }).dataSync().map((x) => x * 3);
  for (let i = 0; i < v.length; i++) {
    for (const k of d.kinks ?? []) if (Math.abs(v[i]! - k) < 0.1) v[i] = k + (v[i]! < k ? -0.1 : 0.1) * (1 + (i % 3));
  }
  return ck.tensor(v, shape, { requiresGrad });
}

const nn = ck.nn as unknown as Record<string, new (opts?: object) => ck.nn.Module>;
const F = ck.F as unknown as Record<string, unknown>;

it('the table is not empty and each op is public as F.<name> and nn.<Layer>', () => {
  expect(POINTWISE_OPS.length).toBeGreaterThanOrEqual(5);
  for (const d of POINTWISE_OPS) {
    expect(F[d.name], `F.${d.name}`).toBe(pointwiseFn(d.name));
    expect(typeof nn[d.layer], `nn.${d.layer}`).toBe('function');
    expect(ck.nn.registeredLayers()).toContain(d.layer);
  }
});

it('SIMD op codes are the wasm kernel\'s (job-layout UOP) and unique', () => {
  const codes = POINTWISE_OPS.filter((d) => d.simd !== undefined).map((d) => d.simd);
  expect(new Set(codes).size).toBe(codes.length);
  for (const d of POINTWISE_OPS) {
    if (d.simd === undefined) continue;
    expect((UOP as Record<string, number>)[d.name], `UOP.${d.name}`).toBe(d.simd);
  }
});

describeEachBackend('declared pointwise ops', () => {
  for (const d of POINTWISE_OPS) {
    const fn = pointwiseFn(d.name)!;
    for (const opts of settings(d)) {
      const tag = `${d.name}(${JSON.stringify(opts)})`;

      it(`${tag}: gradient matches finite differences`, () => {
        gradcheck((t) => fn(t, opts), [input(d, [2, 3, 5], 11, true)]);
      });

      it(`${tag}: the layer computes F, describes itself, saves and rebuilds`, () => {
        const x = input(d, [2, 3, 4, 5], 12, false);
        const layer = new nn[d.layer]!(opts);
        const y = layer.forward(x);
        expectClose(y, fn(x, opts), { rtol: 0, atol: 0, what: tag });
        expect(layer.describe()).toMatch(new RegExp(`^${d.layer}\\(`));
        const back = ck.nn.fromConfig(JSON.parse(JSON.stringify(layer.getConfig())));
        expect(back.constructor).toBe(layer.constructor);
        expectClose(back.forward(x), y, { rtol: 0, atol: 0, what: `${tag} rebuilt` });
      });

      it(`${tag}: forward is the declared formula rounded once, on views too`, () => {
        const x = input(d, [3, 7], 13, false);
        const a = d.param ? (d.param.choices ? d.param.choices.indexOf(String(opts[d.param.name] ?? d.param.default)) : Number(opts[d.param.name] ?? d.param.default)) : 0;
        const want = ck.tensor(x.dataSync().map((v) => d.forward(v, a)), x.shape);
        expectClose(fn(x, opts), want, { rtol: 0, atol: 0, what: tag });
        expectClose(fn(x.transpose(0, 1), opts), want.transpose(0, 1).contiguous(), { rtol: 0, atol: 0, what: `${tag} view` });
      });
    }

    it(`${d.name}: refuses bad input and bad options, naming the op`, () => {
      expectConvkitError(() => fn(null as unknown as ck.Tensor), d.name, 'must be a Tensor');
      expectConvkitError(() => fn(ck.ones([2]), { bogus: 1 } as object), d.name, 'bogus');
      expectConvkitError(() => new nn[d.layer]!({ bogus: 1 }), d.layer, 'bogus');
      if (d.param) {
        const bad = d.param.choices ? 'nope' : Number.NaN;
        expectConvkitError(() => fn(ck.ones([2]), { [d.param!.name]: bad }), d.name, d.param.name);
        expectConvkitError(() => new nn[d.layer]!({ [d.param!.name]: bad }), d.layer, d.param.name);
      }
    });
  }
});

it('gelu (exact) is x Phi(x) to the float32 rounding at published values of the normal CDF, both tails and the erf seam at |x| = 2 sqrt 2', () => {
  // Phi from standard normal tables (Abramowitz & Stegun 26.2), to 16 digits.
  const table: [number, number][] = [
    [0.5, 0.6914624612740131], [1, 0.8413447460685429], [-1, 0.15865525393145707], [2, 0.9772498680518208],
    [-2, 0.022750131948179195], [-3, 0.0013498980316300946], [3, 0.9986501019683699], [-2.5, 0.0062096653257761375],
    [2 * Math.SQRT2, 0.9976611325094764], [-5, 2.866515718791939e-7],
  ];
  const x = ck.tensor(table.map(([v]) => v), [table.length]);
  const got = ck.F.gelu(x).dataSync();
  table.forEach(([v, phi], i) => {
    const want = Math.fround(v * phi);
    expect(Math.abs(got[i]! - want), `gelu(${v})`).toBeLessThanOrEqual(Math.abs(want) * 2 ** -23);
  });
});
