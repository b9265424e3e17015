import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';

const { models, analysis } = ck;
const vgg16 = () => analysis.summarize(models.zooConfig('vgg16'), { input: [3, 224, 224], name: 'vgg16' });

/**
 * The CS231n notes' VGG-16 table ("Case studies"), row by row: layer, output volume, its
 * activations ("memory"), its weights ("params", biases left out as the notes do).
 */
const CS231N_VGG16: [string, string, number, number][] = [
  ['CONV3-64', '[224x224x64]', 224 * 224 * 64, 3 * 3 * 3 * 64],
  ['CONV3-64', '[224x224x64]', 224 * 224 * 64, 3 * 3 * 64 * 64],
  ['POOL2', '[112x112x64]', 112 * 112 * 64, 0],
  ['CONV3-128', '[112x112x128]', 112 * 112 * 128, 3 * 3 * 64 * 128],
  ['CONV3-128', '[112x112x128]', 112 * 112 * 128, 3 * 3 * 128 * 128],
  ['POOL2', '[56x56x128]', 56 * 56 * 128, 0],
  ['CONV3-256', '[56x56x256]', 56 * 56 * 256, 3 * 3 * 128 * 256],
  ['CONV3-256', '[56x56x256]', 56 * 56 * 256, 3 * 3 * 256 * 256],
  ['CONV3-256', '[56x56x256]', 56 * 56 * 256, 3 * 3 * 256 * 256],
  ['POOL2', '[28x28x256]', 28 * 28 * 256, 0],
  ['CONV3-512', '[28x28x512]', 28 * 28 * 512, 3 * 3 * 256 * 512],
  ['CONV3-512', '[28x28x512]', 28 * 28 * 512, 3 * 3 * 512 * 512],
  ['CONV3-512', '[28x28x512]', 28 * 28 * 512, 3 * 3 * 512 * 512],
  ['POOL2', '[14x14x512]', 14 * 14 * 512, 0],
  ['CONV3-512', '[14x14x512]', 14 * 14 * 512, 3 * 3 * 512 * 512],
  ['CONV3-512', '[14x14x512]', 14 * 14 * 512, 3 * 3 * 512 * 512],
  ['CONV3-512', '[14x14x512]', 14 * 14 * 512, 3 * 3 * 512 * 512],
  ['POOL2', '[7x7x512]', 7 * 7 * 512, 0],
  ['FC4096', '[1x1x4096]', 4096, 7 * 7 * 512 * 4096],
  ['FC4096', '[1x1x4096]', 4096, 4096 * 4096],
  ['FC1000', '[1x1x1000]', 1000, 4096 * 1000],
];

describe('summary of VGG-16 (configuration D) on 224x224x3', () => {
  const report = vgg16();

  it('reproduces the CS231n table row by row', () => {
    expect(report.inputVolume).toBe('[224x224x3]');
    expect(report.inputActivations).toBe(150_528); // "INPUT: [224x224x3] memory: 224*224*3=150K"
    const counted = report.rows.filter((r) => r.counted).map((r) => [r.label, r.volume, r.activations, r.weights]);
    expect(counted).toEqual(CS231N_VGG16);
    // Two rows quoted in the issue.
    expect(counted[0]).toEqual(['CONV3-64', '[224x224x64]', 3_211_264, 1_728]);
    expect(counted[18]).toEqual(['FC4096', '[1x1x4096]', 4096, 102_760_448]);
  });

  it('pins the totals: parameters with biases, and the true activation sum', () => {
    const t = report.totals;
    expect(t.params).toBe(138_357_544);
    expect(t.weights).toBe(138_344_128);
    expect(t.biases).toBe(13_416); // 64*2 + 128*2 + 256*3 + 512*6 CONV biases, 4096 + 4096 + 1000 FC biases
    expect(t.paramBytes).toEqual({ float32: 553_430_176, float64: 1_106_860_352 });
    // The notes' summary line says "24M * 4 bytes ~= 93MB / image", but their own rows (input,
    // every CONV/POOL/FC output, RELU in place) add up to 15,237,608.
    const rowsSum = 150_528 + CS231N_VGG16.reduce((s, r) => s + r[2], 0);
    expect(rowsSum).toBe(15_237_608);
    expect(t.activations).toBe(15_237_608);
    expect(t.activationBytes).toEqual({ float32: 60_950_432, float64: 121_900_864 });
    expect(t.activationsForwardBackward).toBe(30_475_216);
    expect(t.activationBytesForwardBackward.float32).toBe(121_900_864);
  });

  it('finds most memory in the early CONV layers and most parameters in the first FC layer', () => {
    expect(report.largestActivations).toBe('CONV3-64 [224x224x64] (0)');
    expect(report.largestParams).toBe('FC4096 [1x1x4096] (32)');
    const convMemory = report.rows.filter((r) => r.counted && r.kind === 'conv').slice(0, 2).reduce((s, r) => s + r.activations, 0);
    expect(convMemory / report.totals.activations).toBeGreaterThan(0.4); // two layers of 13 CONVs hold 42% of the memory
    expect(102_764_544 / report.totals.params).toBeGreaterThan(0.74); // FC6 with its bias: 74% of the parameters
  });

  it('counts multiply-adds per CONV and FC layer, and FLOPs as two per multiply-add', () => {
    // Independent arithmetic: H*W*K * C*3*3 per CONV of configuration D, in*out per FC.
    const plan: [number, number, number][] = [ // [side, C, K]
      [224, 3, 64], [224, 64, 64], [112, 64, 128], [112, 128, 128], [56, 128, 256], [56, 256, 256], [56, 256, 256],
      [28, 256, 512], [28, 512, 512], [28, 512, 512], [14, 512, 512], [14, 512, 512], [14, 512, 512],
    ];
    const convMacs = plan.reduce((s, [w, c, k]) => s + w * w * k * c * 9, 0);
    const fcMacs = 25088 * 4096 + 4096 * 4096 + 4096 * 1000;
    expect(report.totals.macs).toBe(convMacs + fcMacs);
    expect(report.totals.macs).toBe(15_470_264_320); // the often-quoted "15.5G" of VGG-16
    expect(report.totals.flops).toBe(30_940_528_640);
    expect(report.rows[0]!.macs).toBe(224 * 224 * 64 * 27);
  });

  it('gives each layer its receptive field (conv5_3 sees 196x196 pixels)', () => {
    const rf = (label: string, nth: number) => report.rows.filter((r) => r.label === label && r.counted)[nth]!.receptiveField;
    expect(rf('CONV3-64', 0)).toEqual([3, 3]);
    expect(rf('CONV3-64', 1)).toEqual([5, 5]);
    expect(rf('POOL2', 0)).toEqual([6, 6]);
    expect(rf('CONV3-512', 5)).toEqual([196, 196]); // conv5_3
    expect(rf('POOL2', 4)).toEqual([212, 212]);
    // The first FC sees the whole 7x7 grid of pool5 units, 32 pixels apart: 212 + 6*32.
    expect(rf('FC4096', 0)).toEqual([404, 404]);
    expect(report.rows.find((r) => r.label === 'POOL2' && r.volume === '[7x7x512]')!.jump).toEqual([32, 32]);
  });

  it('scales activations and FLOPs by the batch size', () => {
    const b = analysis.summarize(models.zooConfig('vgg16'), { input: [3, 224, 224], batch: 8 });
    expect(b.totals.batchActivations).toBe(8 * 15_237_608);
    expect(b.totals.batchActivationBytes.float32).toBe(8 * 60_950_432);
    expect(b.totals.batchFlops).toBe(8 * 30_940_528_640);
    expect(b.totals.activations).toBe(15_237_608);
  });

  it('counts the in-place and view layers only when asked', () => {
    const all = analysis.summarize(models.zooConfig('vgg16'), { input: [3, 224, 224], countInPlace: true });
    const reluRows = report.rows.filter((r) => r.label === 'RELU').reduce((s, r) => s + r.activations, 0);
    // every RELU output, the flattened 25,088 and the two dropouts of 4,096
    expect(all.totals.activations).toBe(15_237_608 + reluRows + 25_088 + 2 * 4096);
  });

  it('renders the table with the notes\' notation and states what it counts', () => {
    const text = analysis.renderSummary(report);
    expect(text).toMatch(/CONV3-64\s+0\s+\[224x224x64\]\s+3,211,264\s+1,728\s+64\s+86,704,128\s+3/);
    expect(text).toContain('15,237,608');
    expect(text).toContain('60,950,432 bytes');
    expect(text).toContain('138,357,544');
    expect(text).toContain('RELU counts as in place');
    expect(JSON.parse(JSON.stringify(report))).toEqual(report); // plain data for --json
  });
});

describe('summary of other networks', () => {
  it("gives AlexNet's receptive fields: 11, 19, 51, 67, 99, 131, 163, 195", () => {
    const r = analysis.summarize(models.zooConfig('alexnet'), { input: [3, 227, 227] });
    const fields = r.rows.filter((x) => x.kind === 'conv' || x.kind === 'pool').map((x) => x.receptiveField![0]);
    expect(fields).toEqual([11, 19, 51, 67, 99, 131, 163, 195]);
    expect(r.rows.find((x) => x.kind === 'pool' && x.volume === '[6x6x256]')).toBeDefined();
    expect(r.rows[0]!.volume).toBe('[55x55x96]');
  });

  it('walks residual blocks: ResNet-18 ends with a 435-pixel receptive field', () => {
    const r = analysis.summarize(models.resnet18(), { input: [3, 224, 224] });
    expect(r.totals.params).toBe(11_689_512);
    // conv1 7 (stride 2), maxpool 11 (4), layer1 four 3x3: 43, layer2 51 + 3*16 = 99 (8),
    // layer3 115 + 3*32 = 211 (16), layer4 243 + 3*64 = 435 (32).
    const last = r.rows.filter((x) => x.path.startsWith('layer4.1.'));
    expect(last.at(-1)!.receptiveField).toEqual([435, 435]);
    expect(r.rows.filter((x) => x.kind === 'add')).toHaveLength(8);
    expect(r.rows.find((x) => x.path === 'layer2.0.downsample.0')!.label).toBe('CONV1-128/2');
    expect(r.rows.find((x) => x.path === 'avgpool')!.volume).toBe('[1x1x512]');
    expect(r.totals.macs).toBe(1_814_073_344); // "1.8 GFLOPs" (multiply-adds) in the ResNet paper's table 1
  }, 30_000);

  it('walks Inception modules: branches concatenated to 256 channels after 3a', () => {
    const r = analysis.summarize(models.zooConfig('googlenet'), { input: [3, 224, 224] });
    expect(r.totals.params).toBe(6_624_904);
    const cat = r.rows.find((x) => x.path === 'inception3a.cat')!;
    expect(cat.volume).toBe('[28x28x256]');
    expect(r.rows.find((x) => x.path === 'inception5b.cat')!.volume).toBe('[7x7x1024]');
  }, 30_000);

  it.each([
    ['googlenet', () => models.googlenet({ numClasses: 10 })],
    ['resnet50', () => models.resnet50({ numClasses: 10 })],
  ] as const)('predicts the shapes that a forward pass of %s produces, layer by layer', (_, make) => {
    const m = make().eval();
    const seen = new Map<string, number[][]>();
    const handles = m.namedModules().filter(([, c]) => c.children().length === 0).map(([path, c]) =>
      c.registerForwardHook((_mod, _in, out) => seen.set(path, [...(seen.get(path) ?? []), (out as ck.Tensor).shape.slice(1)])),
    );
    ck.noGrad(() => m.forward(ck.randn([1, 3, 64, 64], { seed: 1 })));
    handles.forEach((h) => h.remove());
    const predicted = new Map<string, number[][]>();
    for (const r of analysis.summarize(m, { input: [3, 64, 64] }).rows) {
      if (r.kind !== 'add' && r.kind !== 'concat') predicted.set(r.path, [...(predicted.get(r.path) ?? []), r.output]);
    }
    expect(predicted).toEqual(seen);
  }, 30_000);

  it('summarizes a built model and its description alike', () => {
    const built = analysis.summarize(models.lenet5(), { input: [1, 28, 28] });
    const described = analysis.summarize(models.lenet5().getConfig(), { input: [1, 28, 28] });
    expect(described.rows).toEqual(built.rows);
    expect(built.totals.params).toBe(61_706);
  });

  it('runs a module that describes neither its shape nor its dataflow, to learn its shapes', () => {
    class TwoPaths extends ck.nn.Module {
      a = new ck.nn.Conv2d(3, 4, 3, { padding: 1 });
      b = new ck.nn.Conv2d(3, 4, 1);
      forward(x: ck.Tensor): ck.Tensor {
        return ck.F.add(this.a.forward(x), this.b.forward(x));
      }
    }
    const m = new ck.nn.Sequential(new TwoPaths(), new ck.nn.ReLU(), new ck.nn.MaxPool2d(2));
    m.train();
    const r = analysis.summarize(m, { input: [3, 8, 8] });
    expect(r.rows.map((x) => [x.path, x.volume])).toEqual([
      ['0.a', '[8x8x4]'],
      ['0.b', '[8x8x4]'],
      ['1', '[8x8x4]'],
      ['2', '[4x4x4]'],
    ]);
    expect(r.totals.params).toBe(4 * 27 + 4 + 4 * 3 + 4);
    expect(r.rows[3]!.receptiveField).toBeNull(); // unknown past a module that was only run
    expect(m.training).toBe(true); // the probe runs in eval mode and puts the modes back
  });

  it('points a geometry error at the layer', () => {
    expectConvkitError(() => analysis.summarize(models.zooConfig('vgg16'), { input: [3, 100, 100] }), /^\d+ \(MaxPool2d\)/, '(25 - 2 + 2*0)/2 + 1 = 12.5');
    expectConvkitError(() => analysis.summarize(models.lenet5(), { input: [3, 28, 28] }), '0 (Conv2d)', 'expected 1 input channels, got 3');
    expectConvkitError(() => analysis.summarize(models.lenet5(), { input: [1, 28, 28], batch: 0 }), 'batch must be a positive integer');
  });

  it('reads and writes volumes and sizes in the notes\' notation', () => {
    expect(analysis.parseVolume('224x224x3')).toEqual([3, 224, 224]);
    expect(analysis.parseVolume('[64x32x1]')).toEqual([1, 32, 64]); // width x height x depth
    expect(analysis.formatVolume([64, 112, 112])).toBe('[112x112x64]');
    expect(analysis.formatBytes(60_950_432)).toBe('58.1 MB');
    expect(analysis.parseMemorySize('4GB')).toBe(4 * 1024 ** 3);
    expect(analysis.parseMemorySize('512 MB')).toBe(512 * 1024 ** 2);
    expectConvkitError(() => analysis.parseVolume('224x224'), 'width x height x depth');
    expectConvkitError(() => analysis.parseMemorySize('lots'), 'memory size');
  });
});
