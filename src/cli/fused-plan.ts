import type { Module } from '../nn/module.js';
import { optimizeForInference } from '../nn/optimize-for-inference.js';

/** One step of a model's inference plan: where it sits and what runs there. */
export interface FusedPlanStep {
  path: string;
  step: string;
}

/**
 * What `convkit predict` and `eval` run for this model (ck.nn.optimizeForInference): each
 * module of the optimized model by path, fused steps named by the layers they cover
 * (`features.0+1+2`). Puts the model in eval mode.
 */
export function fusedPlan(model: Module): FusedPlanStep[] {
  return optimizeForInference(model).namedModules().map(([path, m]) => ({ path: path || '(root)', step: m.describe() }));
}

export function renderFusedPlan(plan: readonly FusedPlanStep[]): string {
  const lines = plan.map(({ path, step }) => `${'  '.repeat(path === '(root)' ? 0 : path.split('.').length)}${path}: ${step}`);
  return `inference plan (what predict and eval run; ck.nn.optimizeForInference):\n${lines.join('\n')}`;
}
