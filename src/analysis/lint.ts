import { Module, type ModuleConfig } from '../nn/module.js';
import { buildPattern, type PatternOptions } from './pattern-builder.js';
import { traceConfig, traceModule, type TracedLayer } from './trace.js';
import { formatCount, formatVolume } from './units.js';

/**
 * The sizing linter: the CS231n notes' rules of thumb for laying out a ConvNet, each reported
 * as a warning with its reason. Breaking one is allowed (famous nets do), so none is an
 * error; geometry that cannot work is, and is thrown by the engine's strict size check while
 * the model is traced.
 */

export type LintRule = 'input-size' | 'conv-changes-size' | 'large-filter' | 'large-pool' | 'strided-conv' | 'large-fc';

/** One finding of `lint`: the rule, where it applies and a message saying what to change. */
export interface LintWarning {
  rule: LintRule;
  /** Path of the layer (empty for the input). */
  path: string;
  /** The layer in the notes' notation, e.g. CONV5-32. */
  label: string;
  /** Column in the pattern, when linting a pattern. */
  column?: number;
  message: string;
}

const largestPowerOfTwo = (n: number): number => {
  let p = 1;
  while (n % (p * 2) === 0) p *= 2;
  return p;
};

/** Warnings for traced layers on a per-item input [C, H, W]. */
export function lintLayers(layers: readonly TracedLayer[], input: readonly number[]): LintWarning[] {
  const out: LintWarning[] = [];
  const warn = (rule: LintRule, l: TracedLayer | null, message: string): void => {
    out.push({ rule, path: l?.path ?? '', label: l?.label ?? 'INPUT', message });
  };

  // The input should halve cleanly at every downsampling step (the notes: 32, 64, 96, 224, 384, 512).
  if (input.length === 3) {
    const spatial = layers.filter((l) => l.output.length === 3 && l.receptiveField !== null && l.kind !== 'gap');
    const total = spatial.reduce((m, l) => Math.max(m, l.jump[0], l.jump[1]), 1);
    const [, h, w] = input as [number, number, number];
    for (const [axis, size] of [['height', h], ['width', w]] as const) {
      if (size % total !== 0) {
        warn(
          'input-size',
          null,
          `input ${axis} ${size} is not divisible by the network's total stride ${total} (it is divisible by 2 only ` +
            `${Math.log2(largestPowerOfTwo(size))} times): borders get cropped or padded unevenly; the notes recommend sizes divisible by 2 many times, e.g. 32, 64, 96, 224, 384, 512`,
        );
        if (h === w) break;
      }
    }
  }

  const convs = layers.filter((l) => l.kind === 'conv');
  const firstConv = convs[0];
  const totalParams = layers.reduce((s, l) => s + l.weights + l.biases, 0);
  for (const l of layers) {
    const w = l.window;
    if (l.kind === 'conv' && w) {
      const [kh, kw] = w.kernel;
      const strided = w.stride[0] > 1 || w.stride[1] > 1;
      const changes = l.input.length === 3 && (l.output[1] !== l.input[1] || l.output[2] !== l.input[2]);
      if (!strided && changes) {
        const hint = kh % 2 === 1 && kh === kw ? `pad P = (F-1)/2 = ${(kh - 1) / 2} keeps it` : `an odd filter size with P = (F-1)/2 keeps it`;
        warn(
          'conv-changes-size',
          l,
          `${l.label} changes the spatial size ${formatVolume(l.input)} -> ${formatVolume(l.output)} at stride 1; ${hint}, so that only the POOL layers downsample and the borders are not washed away`,
        );
      }
      if (l !== firstConv && (kh > 5 || kw > 5)) {
        warn('large-filter', l, `${l.label} has ${kh}x${kw} filters after the first layer; stack 3x3 CONVs instead (three 3x3 see 7x7 with fewer parameters and more nonlinearities)`);
      }
      if (l !== firstConv && strided) {
        warn('strided-conv', l, `${l.label} has stride ${w.stride[0]} outside the first layer; the notes keep CONVs at stride 1 and leave downsampling to POOL layers (unless, like all-convolutional nets and ResNets, that is the point)`);
      }
    }
    if (l.kind === 'pool' && w && (w.kernel[0] > 3 || w.kernel[1] > 3)) {
      warn('large-pool', l, `${l.label} pools ${w.kernel[0]}x${w.kernel[1]} windows; larger than 3x3 is too destructive (the notes: F=2, S=2 or F=3, S=2)`);
    }
    if (l.kind === 'fc') {
      const fcWeights = l.weights;
      const fromVolume = layers[layers.indexOf(l) - 1]?.kind === 'flatten' ? layers[layers.indexOf(l) - 1]!.input : null;
      const share = totalParams ? fcWeights / totalParams : 0;
      if (fromVolume && fromVolume.length === 3 && fromVolume[1]! * fromVolume[2]! > 1 && fcWeights >= 1_000_000 && share >= 0.5) {
        warn(
          'large-fc',
          l,
          `${l.label} on the ${formatVolume(fromVolume)} volume has ${formatCount(fcWeights)} weights, ${Math.round(share * 100)}% of all parameters; ` +
            `pool the volume further or use global average pooling (GoogLeNet, ResNet) to shrink it`,
        );
      }
    }
  }
  return out;
}

/** Warnings for a built model or a model description on a per-item input [C, H, W]. */
export function lint(model: Module | ModuleConfig, input: readonly number[]): LintWarning[] {
  const layers = model instanceof Module ? traceModule(model, input) : traceConfig(model, input);
  return lintLayers(layers, input);
}

/** Warnings for a pattern, each with the column of the layer it is about. Geometry errors throw. */
export function lintPattern(pattern: string, opts: PatternOptions = {}): LintWarning[] {
  const built = buildPattern(pattern, opts);
  const warnings = lintLayers(traceConfig(built.config, built.input), built.input);
  const byPath = new Map(built.sources.map((s) => [s.path, s]));
  return warnings.map((w) => {
    const src = byPath.get(w.path);
    if (src) return { ...w, column: src.column };
    if (w.rule === 'input-size' && built.ast.input) return { ...w, column: built.ast.input.column };
    return w;
  });
}

/** The warnings as text, one per line: `column 23: CONV5-32: ...`. */
export function renderLint(warnings: readonly LintWarning[]): string {
  if (warnings.length === 0) return 'no warnings: the layout follows the notes\' rules of thumb';
  return warnings.map((w) => `warning (${w.rule})${w.column ? ` at column ${w.column}` : w.path ? ` at layer ${w.path}` : ''}: ${w.message}`).join('\n');
}
