import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';

const { analysis, models } = ck;
const rules = (ws: ck.analysis.LintWarning[]) => ws.map((w) => w.rule);

describe('sizing linter', () => {
  it("has nothing to say about a layout that follows the notes", () => {
    const ws = analysis.lintPattern('INPUT[32x32x3] -> [[CONV3-16 -> RELU]*2 -> POOL2]*3 -> [FC64 -> RELU]*2 -> FC10');
    expect(ws).toEqual([]);
    expect(analysis.renderLint(ws)).toContain('no warnings');
  });

  it('warns about an input that does not halve cleanly', () => {
    const [w] = analysis.lintPattern('INPUT[28x28x1] -> [CONV3-8 -> RELU -> POOL2]*2 -> CONV3-8 -> POOL3/2p1 -> FC10');
    // 28 -> 14 -> 7 -> POOL3/2 pad 1 -> 4: total stride 8, and 28 = 4 * 7
    expect(w).toMatchObject({ rule: 'input-size', column: 1, label: 'INPUT' });
    expect(w!.message).toContain('input height 28 is not divisible by the network\'s total stride 8');
    expect(w!.message).toContain('32, 64, 96, 224, 384, 512');
  });

  it('warns about a CONV that changes the spatial size and suggests P = (F-1)/2', () => {
    const ws = analysis.lintPattern('INPUT[32x32x3] -> CONV5-16p0 -> RELU -> POOL2 -> FC10');
    expect(ws).toHaveLength(1);
    expect(ws[0]).toMatchObject({ rule: 'conv-changes-size', column: 19, label: 'CONV5-16p0', path: '0' });
    expect(ws[0]!.message).toContain('[32x32x3] -> [28x28x16] at stride 1; pad P = (F-1)/2 = 2 keeps it');
  });

  it('warns about large filters after the first layer, but not in it', () => {
    const ws = analysis.lintPattern('INPUT[64x64x3] -> CONV7-16 -> POOL2 -> CONV7-16 -> POOL2 -> FC10');
    expect(rules(ws)).toEqual(['large-filter']);
    expect(ws[0]!.column).toBe(40);
    expect(ws[0]!.message).toContain('7x7 filters after the first layer; stack 3x3 CONVs');
  });

  it('warns about pools above 3x3', () => {
    const ws = analysis.lintPattern('INPUT[32x32x3] -> CONV3-8 -> POOL4 -> FC10');
    expect(rules(ws)).toEqual(['large-pool']);
    expect(ws[0]!.message).toContain('POOL4 pools 4x4 windows; larger than 3x3 is too destructive');
  });

  it('warns about strided CONVs outside the first layer', () => {
    // (32 - 4 + 2)/2 + 1 = 16, then (16 - 4 + 2)/2 + 1 = 8
    const ws = analysis.lintPattern('INPUT[32x32x3] -> CONV4-8/2p1 -> CONV4-8/2p1 -> FC10');
    expect(rules(ws)).toEqual(['strided-conv']);
    expect(ws[0]!.column).toBe(34);
    expect(ws[0]!.message).toContain('stride 2 outside the first layer');
  });

  it('warns about a large FC layer on a big volume', () => {
    const ws = analysis.lint(models.zooConfig('vgg16'), [3, 224, 224]);
    expect(rules(ws)).toEqual(['large-fc']);
    expect(ws[0]).toMatchObject({ path: '32', label: 'FC4096' });
    expect(ws[0]!.message).toContain('FC4096 on the [7x7x512] volume has 102,760,448 weights, 74% of all parameters');
    expect(analysis.renderLint(ws)).toMatch(/^warning \(large-fc\) at layer 32: /);
  });

  it('lints the zoo: AlexNet breaks the input rule, ResNet the stride rule, GoogLeNet nothing on size', () => {
    expect(rules(analysis.lint(models.zooConfig('alexnet'), [3, 227, 227]))).toEqual(['input-size', 'large-fc']);
    const resnet = analysis.lint(models.resnet18(), [3, 224, 224]);
    expect(new Set(rules(resnet))).toEqual(new Set(['strided-conv']));
    expect(resnet.map((w) => w.path)).toEqual([
      'layer2.0.conv1', 'layer2.0.downsample.0', 'layer3.0.conv1', 'layer3.0.downsample.0', 'layer4.0.conv1', 'layer4.0.downsample.0',
    ]);
    expect(rules(analysis.lint(models.zooConfig('allconv'), [3, 32, 32]))).toEqual(['strided-conv', 'strided-conv', 'conv-changes-size']);
  }, 30_000);

  it('makes geometry that cannot work an error, not a warning', () => {
    expectConvkitError(() => analysis.lintPattern('INPUT[30x30x3] -> POOL2 -> POOL2 -> FC10'), 'pattern error at column 28', '(15 - 2 + 2*0)/2 + 1 = 7.5');
    expectConvkitError(() => analysis.lint(models.zooConfig('vgg16'), [3, 200, 200]), '(MaxPool2d)', '12.5');
  });
});
