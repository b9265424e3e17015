import { describe, expect, test } from 'vitest';
import { buildPattern } from '../../src/analysis/pattern-builder.js';
import { expandPattern, parsePattern } from '../../src/analysis/pattern-parser.js';
import { adaptPattern, foldRepeats, layerText, patternText } from '../../web/src/net/pattern-text.js';
import { readRun, runToHash } from '../../web/src/state/url-state.js';
import { DEFAULT_RUN, PRESETS } from '../../web/src/shared/run-config.js';

/**
 * The playground's pure logic, in Node (part of `npm test`; the page itself is tested in
 * Chromium by playground.browser.ts): writing patterns back from the editor's form, and the
 * run in the URL.
 */

describe('pattern text from the form', () => {
  test('folds repeated runs into the notes’ groups, nested', () => {
    const layers = expandPattern(parsePattern('INPUT[28x28x1] -> [[CONV3-8 -> RELU]*2 -> POOL2]*2 -> FC10')).map((n) => n.layer);
    expect(patternText([1, 28, 28], layers)).toBe('INPUT[28x28x1] -> [[CONV3-8 -> RELU]*2 -> POOL2]*2 -> FC10');
    expect(foldRepeats(['FC10', 'FC10', 'FC10'])).toBe('FC10*3');
    expect(foldRepeats(['A', 'B', 'C'])).toBe('A -> B -> C');
  });

  test('every layer’s text parses back to the same layer', () => {
    for (const text of ['CONV3-8', 'CONV5-16/2', 'CONV3-64p0', 'CONV7-64/2p3', 'POOL2', 'POOL3/2', 'AVGPOOL2', 'FC10', 'RELU', 'BN', 'NORM', 'GAP', 'DROPOUT', 'DROPOUT0.3', 'FLATTEN']) {
      const [node] = expandPattern(parsePattern(text));
      expect(layerText(node!.layer)).toBe(text);
    }
  });

  test('round trip: the folded text builds the same model as the original', () => {
    for (const { net } of PRESETS) {
      const ast = parsePattern(net);
      const text = patternText([ast.input!.depth, ast.input!.height, ast.input!.width], expandPattern(ast).map((n) => n.layer));
      expect(buildPattern(text).config).toEqual(buildPattern(net).config);
    }
  });

  test('adapting to a dataset rewrites INPUT and the last FC only', () => {
    expect(adaptPattern('INPUT[28x28x1] -> CONV3-8 -> FC120 -> FC10', [3, 32, 32], 4)).toBe('INPUT[32x32x3] -> CONV3-8 -> FC120 -> FC4');
    expect(adaptPattern('CONV3-8 -> FC10', [1, 28, 28], 10)).toBe('INPUT[28x28x1] -> CONV3-8 -> FC10');
  });
});

describe('the run in the URL', () => {
  test('round trip of every field', () => {
    const run = { net: 'INPUT[32x32x3] -> [CONV3-8 -> RELU]*2 -> FC4', dataset: 'shapes' as const, seed: 42, hyper: { optimizer: 'adam' as const, lr: 0.003, momentum: 0.8, batchSize: 16, weightDecay: 0.0001 }, backend: 'webgpu' as const };
    expect(readRun(runToHash(run))).toEqual(run);
    expect(readRun(runToHash({ ...run, backend: 'wasm' }))).toEqual({ ...run, backend: 'wasm' });
  });

  test('the default backend (wasm) is left out of the URL, so older links read the same', () => {
    expect(runToHash(DEFAULT_RUN)).not.toContain('backend');
    expect(runToHash({ ...DEFAULT_RUN, backend: 'webgpu' })).toContain('backend=webgpu');
    expect(readRun('#backend=cuda').backend).toBe('wasm');
  });

  test('missing or bad fields fall back to the defaults', () => {
    expect(readRun('')).toEqual(DEFAULT_RUN);
    const run = readRun('#data=nope&opt=lbfgs&lr=abc&seed=3');
    expect(run.dataset).toBe(DEFAULT_RUN.dataset);
    expect(run.hyper.optimizer).toBe(DEFAULT_RUN.hyper.optimizer);
    expect(run.hyper.lr).toBe(DEFAULT_RUN.hyper.lr);
    expect(run.seed).toBe(3);
  });
});
