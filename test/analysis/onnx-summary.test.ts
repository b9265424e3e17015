import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { makeModel } from '../io/onnx-builder.js';
import { ensureBuilt, ROOT, runCli } from '../cli/cli-helpers.js';
import type { SummaryRow } from '../../src/analysis/summary.js';
import type { Module } from '../../src/nn/module.js';

/** `summarize` on an imported ONNX graph: one row per node, as for convkit's own models. */

const { analysis, io, models, nn } = ck;
const FIXTURE = join(ROOT, 'test/fixtures/onnx-lenet/lenet5-digits.onnx');
const INPUT = [1, 28, 28];

const exportedLenet = () => io.loadOnnxBytes(io.exportOnnx(models.lenet5(), { inputShape: INPUT }));
const ownParams = (m: Module) => m.parameters().reduce((s, p) => s + p.size, 0);

/** The fields a row shares with the same layer of the convkit-native model. */
const layerFields = (r: SummaryRow) => ({
  label: r.label,
  kind: r.kind,
  output: r.output,
  weights: r.weights,
  biases: r.biases,
  macs: r.macs,
  receptiveField: r.receptiveField,
  jump: r.jump,
  counted: r.counted,
});

describe('summary of an imported ONNX graph', () => {
  it('lists one row per node of an exported LeNet-5, matching the native summary layer by layer', () => {
    const onnx = exportedLenet();
    const report = analysis.summarize(onnx, { input: INPUT });
    const native = analysis.summarize(models.lenet5(), { input: INPUT });
    expect(report.rows.map((r) => [r.path, r.type])).toEqual(onnx.nodes());
    expect(report.rows.map(layerFields)).toEqual(native.rows.map(layerFields));
    expect(report.totals).toEqual(native.totals);
    expect(report.totals.params).toBe(61_706);
    expect(report.totals.params).toBe(ownParams(onnx));
    expect(report.totals.macs).toBe(report.rows.reduce((s, r) => s + r.macs, 0));
    // Relu in place, Flatten a view: shown in parentheses, left out of the totals.
    expect(report.rows.filter((r) => r.inPlace).map((r) => r.type)).toEqual(['Relu', 'Relu', 'Flatten', 'Relu', 'Relu']);
    expect(report.rows.find((r) => r.path === '7')).toMatchObject({ label: 'FC120', input: [400], weights: 48_000, biases: 120, macs: 48_000 });
  });

  it('reads the committed PyTorch LeNet-5 fixture the same way (node names as paths)', () => {
    const onnx = io.loadOnnxBytes(readFileSync(FIXTURE));
    const report = analysis.summarize(onnx, { input: INPUT });
    const native = analysis.summarize(models.lenet5(), { input: INPUT });
    expect(report.rows.map((r) => r.path)).toEqual(onnx.nodes().map(([name]) => name));
    expect(report.rows.map(layerFields)).toEqual(native.rows.map(layerFields));
    expect(report.totals.params).toBe(ownParams(onnx));
    expect(report.totals.macs).toBe(native.totals.macs);
    expect(analysis.renderSummary(report)).toMatch(/CONV5-6\s+\/0\/Conv\s+\[28x28x6\]\s+4,704\s+150\s+6\s+117,600\s+5/);
  });

  it('counts grouped convolutions, MatMul, residual adds, shared weights and reshapes', () => {
    const floats = (n: number) => Array.from({ length: n }, (_, i) => ((i % 7) - 3) / 10);
    const bytes = makeModel({
      inputs: [{ name: 'x', dims: [1, 4, 8, 8] }],
      outputs: ['y'],
      initializers: [
        { name: 'w', dims: [4, 2, 3, 3], floats: floats(72) },
        { name: 'fcw', dims: [256, 5], floats: floats(1280) },
        { name: 'b', dims: [5], floats: floats(5) },
        { name: 'shape', dims: [2], dataType: 7, int64s: [1, -1] },
      ],
      nodes: [
        { op: 'Conv', name: 'conv1', inputs: ['x', 'w'], outputs: ['c1'], attrs: { group: 2, pads: [1, 1, 1, 1] } },
        // The same weight again: its parameters count once, at conv1.
        { op: 'Conv', inputs: ['c1', 'w'], outputs: ['c2'], attrs: { group: 2, pads: [1, 1, 1, 1] } },
        { op: 'Relu', name: 'relu', inputs: ['c2'], outputs: ['r'] },
        { op: 'Add', name: 'residual', inputs: ['r', 'x'], outputs: ['s'] },
        { op: 'Reshape', name: 'flat', inputs: ['s', 'shape'], outputs: ['f'] },
        { op: 'MatMul', name: 'fc', inputs: ['f', 'fcw'], outputs: ['m'] },
        { op: 'Add', name: 'bias', inputs: ['m', 'b'], outputs: ['y'] },
      ],
    });
    const onnx = io.loadOnnxBytes(bytes);
    const report = analysis.summarize(onnx, { input: [4, 8, 8] });
    const rows = report.rows.map((r) => [r.path, r.type, r.label, r.output, r.weights, r.biases, r.macs, r.counted]);
    // Each output of a 2-group 3x3 conv over 4 channels is a dot product of 2*3*3 inputs.
    expect(rows).toEqual([
      ['conv1', 'Conv', 'CONV3-4g2', [4, 8, 8], 72, 0, 4 * 8 * 8 * 18, true],
      ['n1', 'Conv', 'CONV3-4g2', [4, 8, 8], 0, 0, 4 * 8 * 8 * 18, true],
      ['relu', 'Relu', 'RELU', [4, 8, 8], 0, 0, 0, false],
      ['residual', 'Add', 'ADD', [4, 8, 8], 0, 0, 0, true],
      ['flat', 'Reshape', 'RESHAPE', [256], 0, 0, 0, false],
      ['fc', 'MatMul', 'FC5', [5], 1280, 0, 1280, true],
      ['bias', 'Add', 'ADD', [5], 0, 5, 0, true],
    ]);
    expect(report.rows.map((r) => r.receptiveField)).toEqual([[3, 3], [5, 5], [5, 5], [5, 5], [5, 5], [12, 12], [12, 12]]);
    expect(report.totals.params).toBe(ownParams(onnx));
    expect(report.totals.macs).toBe(2 * 4608 + 1280);
    expect(report.totals.activations).toBe(256 + 256 + 256 + 256 + 5 + 5);
  });

  it('traces a replaced node as its layer, and an ONNX model inside a Sequential under its path', () => {
    const onnx = exportedLenet().replaceNode('11', new nn.Linear(84, 3));
    const report = analysis.summarize(onnx, { input: INPUT });
    const last = report.rows[report.rows.length - 1]!;
    expect(report.rows).toHaveLength(12);
    expect(last).toMatchObject({ type: 'Linear', label: 'FC3', weights: 252, biases: 3, macs: 252 });
    expect(report.totals.params).toBe(ownParams(onnx));
    expect(report.rows.some((r) => r.path === '(other)')).toBe(false);

    const wrapped = analysis.summarize(new nn.Sequential(exportedLenet(), new nn.Softmax(1)), { input: INPUT });
    expect(wrapped.rows.slice(0, 2).map((r) => r.path)).toEqual(['0.0', '0.1']);
    expect(wrapped.rows).toHaveLength(13);
  });
});

describe('convkit summary model.onnx', { timeout: 240_000 }, () => {
  beforeAll(() => ensureBuilt(), 240_000);

  it('prints a row per node', async () => {
    const r = await runCli(['summary', FIXTURE]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/CONV5-6\s+\/0\/Conv\s+\[28x28x6\]\s+4,704\s+150\s+6\s+117,600\s+5/);
    expect(r.stdout).toMatch(/FC120\s+\/7\/Gemm\s+\[1x1x120\]\s+120\s+48,000\s+120\s+48,000\s+32/);
    expect(r.stdout).toMatch(/RELU\s+\/1\/Relu\s+\[28x28x6\]\s+\(4,704\)/);
    const j = JSON.parse((await runCli(['summary', FIXTURE, '--json'])).stdout);
    expect(j.rows).toHaveLength(12);
    expect(j.totals.params).toBe(61_706);
    expect(j.totals.macs).toBe(416_520);
  });
});
