import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';

const { analysis } = ck;
const NOTES = 'INPUT[32x32x3] -> [[CONV3-16 -> RELU]*2 -> POOL2]*3 -> [FC64 -> RELU]*2 -> FC10';

describe('pattern parser', () => {
  it("parses the notes' pattern into a tree with columns", () => {
    const ast = analysis.parsePattern(NOTES);
    expect(ast.input).toEqual({ width: 32, height: 32, depth: 3, column: 1 });
    expect(ast.body).toHaveLength(3);
    const [convs, fcs, last] = ast.body;
    expect(convs).toMatchObject({ type: 'repeat', times: 3, column: 19 });
    expect(fcs).toMatchObject({ type: 'repeat', times: 2 });
    expect(last).toEqual({ type: 'layer', layer: { kind: 'fc', units: 10 }, column: NOTES.indexOf('FC10') + 1, text: 'FC10' });
    const inner = (convs as ck.analysis.RepeatNode).body[0] as ck.analysis.RepeatNode;
    expect(inner.times).toBe(2);
    expect(inner.body.map((n) => (n as ck.analysis.LayerNode).layer)).toEqual([{ kind: 'conv', size: 3, filters: 16, stride: null, pad: null }, { kind: 'relu' }]);
    const flat = analysis.expandPattern(ast).map((n) => n.text);
    expect(flat).toEqual([...Array(3).fill(['CONV3-16', 'RELU', 'CONV3-16', 'RELU', 'POOL2']).flat(), 'FC64', 'RELU', 'FC64', 'RELU', 'FC10']);
  });

  it('reads every layer form', () => {
    const layers = analysis.expandPattern(analysis.parsePattern('conv5-32/2 -> CONV3-64p0 -> CONV7-64/2p3 -> POOL3/2 -> AVGPOOL2 -> POOL3/1p1 -> FC4096 -> NORM -> LRN -> BN -> DROPOUT -> DROPOUT0.3 -> GAP -> FLATTEN -> relu'));
    expect(layers.map((l) => l.layer)).toEqual([
      { kind: 'conv', size: 5, filters: 32, stride: 2, pad: null },
      { kind: 'conv', size: 3, filters: 64, stride: null, pad: 0 },
      { kind: 'conv', size: 7, filters: 64, stride: 2, pad: 3 },
      { kind: 'pool', size: 3, stride: 2, pad: 0, avg: false },
      { kind: 'pool', size: 2, stride: null, pad: 0, avg: true },
      { kind: 'pool', size: 3, stride: 1, pad: 1, avg: false },
      { kind: 'fc', units: 4096 },
      { kind: 'norm' },
      { kind: 'norm' },
      { kind: 'bn' },
      { kind: 'dropout', p: 0.5 },
      { kind: 'dropout', p: 0.3 },
      { kind: 'gap' },
      { kind: 'flatten' },
      { kind: 'relu' },
    ]);
  });

  it('repeats single layers, accepts → and free whitespace, and refuses *0 (which would drop the group)', () => {
    const a = analysis.expandPattern(analysis.parsePattern('INPUT[8x8x1]→CONV3-4*3->[POOL2]*1 ->FC2')).map((n) => n.text);
    expect(a).toEqual(['CONV3-4', 'CONV3-4', 'CONV3-4', 'POOL2', 'FC2']);
    expectConvkitError(() => analysis.parsePattern('INPUT[8x8x1] -> [RELU]*0 -> FC2'), 'pattern error at column 24: ', 'a repeat count of 0 would drop what it repeats');
    expectConvkitError(() => analysis.parsePattern('INPUT[8x8x1] -> RELU*0 -> FC2'), 'pattern error at column 22: ', 'a repeat count of 0');
  });

  it.each([
    ['INPUT[32x32x3] -> [CONV3-16 -> RELU*2 -> FC10', 46, "expected ']' to close the '[' at column 19, got the end of the pattern"],
    ['INPUT[32x32x3] -> CONVX', 19, "'CONVX' is not a CONV layer; write CONV<F>-<K>"],
    ['INPUT[32x32x3] -> CONV3 -> RELU', 19, "'CONV3' is not a CONV layer"],
    ['INPUT[32x32x3] -> POOL -> RELU', 19, "'POOL' is not a POOL layer"],
    ['INPUT[32x32x3] -> FC', 19, "'FC' is not an FC layer"],
    ['INPUT[32x32x3] -> SOFTMAX', 19, "unknown layer 'SOFTMAX'; expected one of INPUT[WxHxD], CONV<F>-<K>"],
    ['INPUT[32x32x3] -> RELU -> -> FC10', 27, "expected a layer or '[', got '->'"],
    ['INPUT[32x32x3] RELU', 16, "expected '->' after INPUT[...], got 'RELU'"],
    ['INPUT[32x32] -> RELU', 7, "width x height x depth, e.g. 32x32x3, got '32x32'"],
    ['INPUT -> RELU', 7, "expected '[' after INPUT"],
    ['CONV3-16 -> INPUT[3x3x3]', 13, 'INPUT[...] can only come first'],
    ['INPUT[32x32x3] -> [CONV3-16]*', 30, "expected a repeat count after '*'"],
    ['INPUT[32x32x3] -> RELU]', 23, "no ']' here"],
    ['INPUT[32x32x3] -> []', 20, "expected a layer inside [ ]"],
    ['INPUT[32x32x3] -> DROPOUT1.5', 19, 'dropout probability must be in [0, 1)'],
    ['INPUT[32x32x3] -> RELU; FC10', 23, "unexpected character ';'"],
  ])('points at the column of a syntax error: %s', (pattern, column, message) => {
    const e = expectConvkitError(() => analysis.parsePattern(pattern), `pattern error at column ${column}: `, message);
    // The pattern, then a caret under the column.
    const lines = e.message.split('\n');
    expect(lines[1]).toBe(`  ${pattern}`);
    expect(lines[2]).toBe(`  ${' '.repeat(column - 1)}^`);
  });
});

describe('pattern builder', () => {
  it("builds the notes' pattern as a Sequential of ordinary layers", () => {
    const built = analysis.buildPattern(NOTES);
    expect(built.input).toEqual([3, 32, 32]);
    const types = (built.config.args as ck.nn.ModuleConfig[]).map((c) => c.type);
    expect(types.slice(0, 5)).toEqual(['Conv2d', 'ReLU', 'Conv2d', 'ReLU', 'MaxPool2d']);
    expect(types.slice(15)).toEqual(['Flatten', 'Linear', 'ReLU', 'Linear', 'ReLU', 'Linear']);
    // CONVs get the channels before them and pad (F-1)/2; the first FC sees 4x4x16 = 256 features.
    expect(built.config.args[0]).toEqual({ type: 'Conv2d', args: [3, 16, 3, { stride: 1, padding: 1 }] });
    expect(built.config.args[2]).toEqual({ type: 'Conv2d', args: [16, 16, 3, { stride: 1, padding: 1 }] });
    expect(built.config.args[16]).toEqual({ type: 'Linear', args: [256, 64, {}] });
    // The inserted FLATTEN points at the FC it serves.
    expect(built.sources[15]).toEqual({ path: '15', column: NOTES.indexOf('FC64') + 1, text: 'FC64' });
  });

  it('builds a model that runs and saves/loads through getConfig', () => {
    const { model, input } = analysis.modelFromPattern(NOTES);
    expect(model.forward(ck.randn([2, ...input], { seed: 1 })).shape).toEqual([2, 10]);
    expect(model.getConfig()).toEqual(analysis.buildPattern(NOTES).config);
    const back = ck.io.deserializeModel(ck.io.serializeModel(model)).model;
    const x = ck.randn([1, ...input], { seed: 2 });
    model.eval();
    expect(back.forward(x).dataSync()).toEqual(model.forward(x).dataSync());
  });

  it('applies the defaults: pad (F-1)/2 at stride 1 and 0 otherwise, POOL stride F, DROPOUT 0.5, LRN as AlexNet', () => {
    const c = analysis.buildPattern('INPUT[227x227x3] -> CONV11-96/4 -> POOL3/2 -> NORM -> CONV5-256 -> BN -> POOL3/2 -> GAP -> DROPOUT -> FC10 -> BN').config.args as ck.nn.ModuleConfig[];
    expect(c).toEqual([
      { type: 'Conv2d', args: [3, 96, 11, { stride: 4, padding: 0 }] },
      { type: 'MaxPool2d', args: [3, { stride: 2 }] },
      { type: 'LocalResponseNorm', args: [5, { alpha: 1e-4, beta: 0.75, k: 2 }] },
      { type: 'Conv2d', args: [96, 256, 5, { stride: 1, padding: 2 }] },
      { type: 'BatchNorm2d', args: [256, {}] },
      { type: 'MaxPool2d', args: [3, { stride: 2 }] },
      { type: 'AdaptiveAvgPool2d', args: [1] },
      { type: 'Dropout', args: [0.5] },
      { type: 'Flatten', args: [{}] },
      { type: 'Linear', args: [256, 10, {}] },
      { type: 'BatchNorm1d', args: [10, {}] },
    ]);
  });

  it('makes a RELU in place only where it overwrites a fresh layer output, never the input', () => {
    const relus = (p: string) => (analysis.buildPattern(p).config.args as ck.nn.ModuleConfig[]).filter((c) => c.type === 'ReLU').map((c) => c.args[0]);
    expect(relus('INPUT[8x8x1] -> RELU -> CONV3-2 -> RELU -> DROPOUT -> RELU -> FC3 -> RELU')).toEqual([
      { inplace: false },
      { inplace: true },
      { inplace: false },
      { inplace: true },
    ]);
    const { model, input } = analysis.modelFromPattern('INPUT[4x4x1] -> RELU -> FC2');
    const x = ck.randn([1, ...input], { seed: 3 });
    const copy = x.dataSync();
    model.forward(x);
    expect(x.dataSync()).toEqual(copy);
  });

  it('summarizes a pattern without building it', () => {
    const r = analysis.summarizePattern('INPUT[224x224x3] -> [CONV3-64 -> RELU]*2 -> POOL2');
    expect(r.rows.filter((x) => x.counted).map((x) => [x.label, x.volume, x.activations])).toEqual([
      ['CONV3-64', '[224x224x64]', 3_211_264],
      ['CONV3-64', '[224x224x64]', 3_211_264],
      ['POOL2', '[112x112x64]', 802_816],
    ]);
    // The input can also come from the caller (the CLI's --input), and wins.
    expect(analysis.summarizePattern('CONV3-8 -> POOL2 -> FC10', { input: [1, 8, 8] }).totals.params).toBe(8 * 9 + 8 + 128 * 10 + 10);
  });

  it.each([
    ['INPUT[32x32x3] -> CONV5-32/2 -> FC10', 19, '(32 - 5 + 2*0)/2 + 1 = 14.5 is not an integer'],
    ['INPUT[32x32x3] -> POOL3', 19, '(32 - 3 + 2*0)/3 + 1 = 10.667'],
    ['INPUT[8x8x3] -> POOL2*4', 17, 'larger than the padded input'],
    ['INPUT[32x32x3] -> FC10 -> CONV3-3', 27, 'a CONV needs a volume [WxHxD], but the layer before gives a vector of 10'],
    ['INPUT[32x32x3] -> CONV2-8', 19, 'an even filter size has no centered padding that keeps the size; write the padding (CONV2-8p0) or the stride (CONV2-8/1, padding 0)'],
    ['CONV3-8 -> FC10', 1, 'no INPUT[WxHxD] and no input size was given'],
  ])('points a geometry error at its layer: %s', (pattern, column, message) => {
    expectConvkitError(() => analysis.buildPattern(pattern), `pattern error at column ${column}: `, message);
  });

  it('reads /S as stride S with padding 0 for every S, 1 included, as the README says; rows keep the written label', () => {
    const volumes = (p: string) => analysis.summarizePattern(p).rows.filter((r) => r.counted).map((r) => [r.label, r.volume]);
    // (32 - 5 + 0)/1 + 1 = 28, where CONV5-8 (no /S) keeps 32.
    expect(volumes('INPUT[32x32x3] -> CONV5-8/1')).toEqual([['CONV5-8/1', '[28x28x8]']]);
    expect(volumes('INPUT[32x32x3] -> CONV5-8')).toEqual([['CONV5-8', '[32x32x8]']]);
    expect(volumes('INPUT[32x32x3] -> conv4-8/1')).toEqual([['CONV4-8/1', '[29x29x8]']]);
    expect(volumes('INPUT[32x32x3] -> CONV5-8/1p2')).toEqual([['CONV5-8/1p2', '[32x32x8]']]);
    expect(volumes('INPUT[33x33x3] -> CONV3-8/2')).toEqual([['CONV3-8/2', '[16x16x8]']]);
    expect(volumes('INPUT[32x32x3] -> conv3-8p0')).toEqual([['CONV3-8p0', '[30x30x8]']]);
    expect(analysis.buildPattern('INPUT[32x32x3] -> CONV5-8/1').config.args[0]).toEqual({ type: 'Conv2d', args: [3, 8, 5, { stride: 1, padding: 0 }] });
  });

  it('suggests network input sizes, not inner volume sizes, for a window that does not fit deep inside', () => {
    // 200 -> 100 -> 50 -> 25, and the fourth POOL2 cannot halve 25: 192 and 208 halve four times.
    const pattern = 'INPUT[200x200x3] -> [CONV3-8 -> RELU -> POOL2]*4 -> FC10';
    expectConvkitError(() => analysis.buildPattern(pattern), 'pattern error at column', 'a network input of 192x192x3 or 208x208x3 (instead of 200x200x3)');
    expect(() => analysis.buildPattern(pattern)).toThrow(/^(?![\s\S]*an input 24 or 26 wide)/);
    // A non-square input changes only the axis that fails.
    expectConvkitError(() => analysis.buildPattern('INPUT[32x30x1] -> POOL4 -> FC2'), 'pattern error', 'a network input of 32x28x1 or 32x32x1');
  });

  it('makes a pattern end with one score per class', () => {
    expect(analysis.patternForClasses('CONV3-4 -> FC3', 3)).toEqual({ pattern: 'CONV3-4 -> FC3' });
    expect(analysis.patternForClasses('CONV3-4 -> GAP', 5)).toEqual({ pattern: 'CONV3-4 -> GAP -> FC5', note: "the pattern ends without an FC layer; added FC5 for the data's 5 classes" });
    expectConvkitError(() => analysis.patternForClasses('CONV3-4 -> FC10 -> DROPOUT', 3), 'pattern error at column 12: ', 'FC10 gives 10 class scores but the data has 3 classes; end the pattern with FC3');
  });

  it('tells a pattern from a model name', () => {
    expect(analysis.looksLikePattern(NOTES)).toBe(true);
    expect(analysis.looksLikePattern('CONV3-16 -> FC10')).toBe(true);
    expect(analysis.looksLikePattern('vgg16')).toBe(false);
    expect(analysis.looksLikePattern('resnet50')).toBe(false);
  });
});
