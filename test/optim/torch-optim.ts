import { readFileSync } from 'node:fs';
import * as ck from '../../src/index.js';

/**
 * The PyTorch golden values written by scripts/fixtures/make_optim_fixtures.py: a tiny fixed
 * problem (two parameters, five steps of hand-given gradients; parameter 1 has none at step 2).
 */

export type OptimizerName = 'SGD' | 'Adagrad' | 'RMSprop' | 'Adam' | 'AdamW';
export type Options = Record<string, number | boolean | number[]>;

export interface OptimizerCase {
  optimizer: OptimizerName;
  options: Options;
  /** Overrides for a second param group holding parameter 1 (null: one group). */
  group2: Options | null;
  /** Per step, each parameter's values after it (flattened). */
  trajectory: number[][][];
}

export interface ScheduleCase {
  schedule: string;
  options: Record<string, number | number[]>;
  /** Per epoch 0..12, each group's lr. */
  lrs: number[][];
}

export interface ClipCase {
  maxNorm: number;
  normType: number | 'inf';
  totalNorm: number;
  grads: number[][];
}

export interface OptimFixtures {
  torch: string;
  shapes: number[][];
  initial: number[][];
  grads: (number[] | null)[][];
  optimizers: OptimizerCase[];
  baseLrs: number[];
  schedules: ScheduleCase[];
  clipGradNorm: ClipCase[];
}

export const fixtures = JSON.parse(
  readFileSync(new URL('../fixtures/torch/optim/optim.json', import.meta.url), 'utf8'),
) as OptimFixtures;

/** Fresh parameters with the fixture's initial values. */
export function initialParams(): ck.nn.Parameter[] {
  return fixtures.shapes.map((s, i) => new ck.nn.Parameter(ck.tensor(fixtures.initial[i]!, s)));
}

/** Sets the gradients of fixture step k (null where the fixture has none). */
export function setGrads(params: readonly ck.Tensor[], k: number): void {
  params.forEach((p, j) => {
    const g = fixtures.grads[k]![j];
    p.grad = g ? ck.tensor(g, fixtures.shapes[j]) : null;
  });
}

type AnyOptions = Record<string, unknown>;
type Ctor = new (params: Iterable<ck.Tensor> | AnyOptions[], options?: AnyOptions) => ck.optim.Optimizer;

export const OPTIMIZERS: Record<OptimizerName, Ctor> = {
  SGD: ck.optim.SGD as unknown as Ctor,
  Adagrad: ck.optim.Adagrad as unknown as Ctor,
  RMSprop: ck.optim.RMSprop as unknown as Ctor,
  Adam: ck.optim.Adam as unknown as Ctor,
  AdamW: ck.optim.AdamW as unknown as Ctor,
};

/** The optimizer of a fixture case over `params`, with the second group when the case has one. */
export function makeOptimizer(c: OptimizerCase, params: readonly ck.Tensor[]): ck.optim.Optimizer {
  const Cls = OPTIMIZERS[c.optimizer];
  if (c.group2 === null) return new Cls(params, c.options);
  return new Cls([{ params: [params[0]] }, { params: [params[1]], ...c.group2 }], c.options);
}

export function describeCase(c: OptimizerCase): string {
  const opts = JSON.stringify(c.options);
  return `${c.optimizer}(${opts}${c.group2 ? `, group 2 ${JSON.stringify(c.group2)}` : ''})`;
}
