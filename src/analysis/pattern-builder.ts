import type { ModuleConfig } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import { ConvkitError } from '../tensor/errors.js';
import { expandPattern, parsePattern, patternError, type LayerNode, type PatternAst } from './pattern-parser.js';
import { traceConfig } from './trace.js';
import { withNetworkInputHint } from './pattern-input-hint.js';

/**
 * Builds the model a pattern describes (see pattern-parser.ts for the syntax) as a Sequential
 * of ordinary layers, so that it saves and loads through getConfig like any other. Shapes are
 * followed layer by layer: a CONV gets the channels of what comes before it, the first FC on
 * a volume gets a FLATTEN in front of it, BN becomes BatchNorm2d on a volume and BatchNorm1d
 * on a vector. Geometry that cannot work (a window that does not tile its input) is the
 * engine's strict output-size error, pointed at the layer's column.
 */

export interface PatternLayerSource {
  /** Index of the layer in the built Sequential (its path). */
  path: string;
  column: number;
  text: string;
}

/** A pattern turned into a model description: the parsed pattern, the config to build and where each layer came from. */
export interface BuiltPattern {
  ast: PatternAst;
  /** The model as a description; `nn.fromConfig(config)` builds it. */
  config: ModuleConfig;
  /** Per-item input [C, H, W]. */
  input: [number, number, number];
  /** Which pattern layer each built layer comes from (inserted FLATTENs point at the FC). */
  sources: PatternLayerSource[];
}

/** Options of `buildPattern`. */
export interface PatternOptions {
  /** The input [C, H, W] when the pattern has no INPUT[...] (it wins over a pattern's own). */
  input?: readonly [number, number, number];
}

/** Layers whose output is a fresh tensor that a RELU may overwrite (never the caller's input, nor a view of it). */
const FRESH = new Set(['Conv2d', 'Linear', 'MaxPool2d', 'AvgPool2d', 'BatchNorm2d', 'BatchNorm1d', 'LocalResponseNorm', 'AdaptiveAvgPool2d']);

/** The options each pattern layer becomes; sizes in the notes' defaults. `prev` is the layer type before it. */
function layerConfig(node: LayerNode, shape: readonly number[], src: string, prev: string | undefined): ModuleConfig[] {
  const l = node.layer;
  const volume = shape.length === 3;
  const needVolume = (what: string): void => {
    if (!volume) throw patternError(src, node.column, `${node.text}: ${what} needs a volume [WxHxD], but the layer before gives a vector of ${shape[0]} (after an FC or FLATTEN)`);
  };
  switch (l.kind) {
    case 'conv': {
      needVolume('a CONV');
      // Written /S (any S, 1 included) means padding 0; no /S means stride 1 keeping the size.
      let pad = l.pad;
      if (pad === null) {
        if (l.stride !== null) pad = 0;
        else if (l.size % 2 === 1) pad = (l.size - 1) / 2;
        else throw patternError(src, node.column, `${node.text}: an even filter size has no centered padding that keeps the size; write the padding (${node.text}p0) or the stride (${node.text}/1, padding 0)`);
      }
      return [{ type: 'Conv2d', args: [shape[0], l.filters, l.size, { stride: l.stride ?? 1, padding: pad }] }];
    }
    case 'pool': {
      needVolume('a POOL');
      const opts: Record<string, number> = {};
      if (l.stride !== null) opts['stride'] = l.stride;
      if (l.pad) opts['padding'] = l.pad;
      return [{ type: l.avg ? 'AvgPool2d' : 'MaxPool2d', args: [l.size, opts] }];
    }
    case 'fc': {
      const features = shape.reduce((a, b) => a * b, 1);
      const linear: ModuleConfig = { type: 'Linear', args: [features, l.units, {}] };
      return volume ? [{ type: 'Flatten', args: [{}] }, linear] : [linear];
    }
    case 'relu':
      // In place (as the notes count it) where it overwrites a fresh output; never the model's input.
      return [{ type: 'ReLU', args: [{ inplace: prev !== undefined && FRESH.has(prev) }] }];
    case 'norm':
      needVolume('NORM (local response normalization across channels)');
      return [{ type: 'LocalResponseNorm', args: [5, { alpha: 1e-4, beta: 0.75, k: 2 }] }];
    case 'bn':
      return [{ type: volume ? 'BatchNorm2d' : 'BatchNorm1d', args: [shape[0], {}] }];
    case 'dropout':
      return [{ type: 'Dropout', args: [l.p] }];
    case 'gap':
      needVolume('GAP');
      return [{ type: 'AdaptiveAvgPool2d', args: [1] }];
    case 'flatten':
      return volume ? [{ type: 'Flatten', args: [{}] }] : [];
  }
}

/** Parses (if needed) and lays out a pattern's model, checking every size. */
export function buildPattern(pattern: string | PatternAst, opts: PatternOptions = {}): BuiltPattern {
  const ast = typeof pattern === 'string' ? parsePattern(pattern) : pattern;
  try {
    return layOut(ast, opts);
  } catch (e) {
    // A window that does not fit deep inside: suggest network inputs, not inner volume sizes.
    const input = opts.input ?? (ast.input ? [ast.input.depth, ast.input.height, ast.input.width] : null);
    if (!input) throw e;
    throw withNetworkInputHint(e, [input[0]!, input[1]!, input[2]!], (shape) => layOut(ast, { input: shape }) !== null);
  }
}

function layOut(ast: PatternAst, opts: PatternOptions): BuiltPattern {
  const src = ast.source;
  let input: [number, number, number];
  if (opts.input) input = [opts.input[0], opts.input[1], opts.input[2]];
  else if (ast.input) input = [ast.input.depth, ast.input.height, ast.input.width];
  else throw patternError(src, 1, 'the pattern has no INPUT[WxHxD] and no input size was given; start it with e.g. INPUT[32x32x3] ->');
  const layers = expandPattern(ast);
  if (layers.length === 0) throw patternError(src, src.length + 1, 'the pattern has no layers after INPUT');
  const configs: ModuleConfig[] = [];
  const sources: PatternLayerSource[] = [];
  let shape: number[] = [...input];
  for (const node of layers) {
    for (const c of layerConfig(node, shape, src, configs[configs.length - 1]?.type)) {
      try {
        const rows = traceConfig(c, shape);
        shape = rows.length ? rows[rows.length - 1]!.output : shape;
      } catch (e) {
        if (!(e instanceof ConvkitError)) throw e;
        // The engine's own message (with its arithmetic), without the path of a one-layer trace.
        throw patternError(src, node.column, `${node.text} on [${shape.length === 3 ? `${shape[2]}x${shape[1]}x${shape[0]}` : `1x1x${shape[0]}`}]: ${e.message.replace(/^\S+ \(\w+\): /, '')}`);
      }
      sources.push({ path: String(configs.length), column: node.column, text: node.text });
      configs.push(c);
    }
  }
  return { ast, config: { type: 'Sequential', args: configs }, input, sources };
}

/**
 * A pattern made to classify `classes` classes: its last FC layer must give that many scores
 * (an error pointing at it otherwise); a pattern that ends without an FC layer gets FC<classes>
 * appended, which `note` says.
 */
export function patternForClasses(pattern: string, classes: number): { pattern: string; note?: string } {
  const ast = parsePattern(pattern);
  const layers = expandPattern(ast);
  const fcs = layers.filter((n) => n.layer.kind === 'fc');
  const last = fcs[fcs.length - 1];
  if (!last) {
    return { pattern: `${pattern.trimEnd()} -> FC${classes}`, note: `the pattern ends without an FC layer; added FC${classes} for the data's ${classes} classes` };
  }
  const units = last.layer.kind === 'fc' ? last.layer.units : 0;
  if (units !== classes) {
    throw patternError(ast.source, last.column, `${last.text} gives ${units} class scores but the data has ${classes} classes; end the pattern with FC${classes}`);
  }
  return { pattern };
}

/** The model a pattern describes, built (a Sequential), with its input shape. */
export function modelFromPattern(pattern: string, opts: PatternOptions = {}): { model: Sequential; input: [number, number, number]; built: BuiltPattern } {
  const built = buildPattern(pattern, opts);
  return { model: Sequential.fromConfig(built.config.args), input: built.input, built };
}
