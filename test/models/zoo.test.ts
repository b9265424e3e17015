import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';

const { models, analysis } = ck;

const countParams = (m: ck.nn.Module): number => m.parameters().reduce((s, p) => s + p.size, 0);
/** Parameters from the architecture description alone (nothing allocated). */
const describedParams = (name: string): number => analysis.summarize(models.zooConfig(name), { input: models.zooInputShape(name) }).totals.params;

/** conv F x F, C -> K, with bias; fc in -> out, with bias. */
const conv = (c: number, k: number, f: number): number => k * c * f * f + k;
const fc = (i: number, o: number): number => i * o + o;

/**
 * Reference counts. torchvision's published "num_params" for VGG-11/13/16/19, ResNet-18/34/50
 * and GoogLeNet; every figure was also reproduced by building the same nets in plain PyTorch
 * (scripts/models/reference_param_counts.py, torch 1.13, which asserts the published ones).
 */
const PUBLISHED: Record<string, number> = {
  vgg11: 132_863_336,
  vgg13: 133_047_848,
  vgg16: 138_357_544,
  vgg19: 143_667_240,
  resnet18: 11_689_512,
  resnet34: 21_797_672,
  resnet50: 25_557_032,
  // torchvision's GoogLeNet without the auxiliary classifiers (the paper quotes ~6.8M with its own layout).
  googlenet: 6_624_904,
  // torchvision's vgg*_bn and AlexNet (test/fixtures/torchvision/state-dict-keys.json has the same).
  vgg11bn: 132_868_840,
  vgg13bn: 133_053_736,
  vgg16bn: 138_365_992,
  vgg19bn: 143_678_248,
  alexnetTorchvision: 61_100_840,
};

/** Worked out by hand from each architecture (no published exact figure to compare with). */
const BY_HAND: Record<string, number> = {
  // AlexNet, one tower on 227x227x3 (the two-tower original is "60M"):
  // CONV11-96, CONV5-256, CONV3-384, CONV3-384, CONV3-256, FC 6*6*256 -> 4096 -> 4096 -> 1000.
  alexnet: conv(3, 96, 11) + conv(96, 256, 5) + conv(256, 384, 3) + conv(384, 384, 3) + conv(384, 256, 3) + fc(6 * 6 * 256, 4096) + fc(4096, 4096) + fc(4096, 1000),
  // ZFNet: CONV7-96/2, CONV5-256/2, CONV3-512, CONV3-1024, CONV3-512, FC 6*6*512 -> 4096 -> 4096 -> 1000.
  zfnet: conv(3, 96, 7) + conv(96, 256, 5) + conv(256, 512, 3) + conv(512, 1024, 3) + conv(1024, 512, 3) + fc(6 * 6 * 512, 4096) + fc(4096, 4096) + fc(4096, 1000),
  // VGG configuration C = D with the last CONV3 of blocks 3-5 as CONV1: D - 8 * (256*256 + 512*512 + 512*512).
  vgg16c: 138_357_544 - 8 * (256 * 256 + 2 * 512 * 512),
  // A-LRN: LRN has no parameters.
  vgg11lrn: 132_863_336,
  // All-CNN-C: 3x3 convs 96, 96, 96/2, 192, 192, 192/2, 192 (valid), 1x1 192, 1x1 10. The paper says ~1.4M.
  allconv: conv(3, 96, 3) + 2 * conv(96, 96, 3) + conv(96, 192, 3) + 3 * conv(192, 192, 3) + conv(192, 192, 1) + conv(192, 10, 1),
  // Tiny VGG (CNN Explainer): four CONV3-10, FC 13*13*10 -> 10.
  tinyVgg: conv(3, 10, 3) + 3 * conv(10, 10, 3) + fc(13 * 13 * 10, 10),
  // LeNet-5 (ReLU/max-pool variant, pad 2 on 28x28): 5x5 convs 6 and 16, FC 400 -> 120 -> 84 -> 10.
  lenet5: conv(1, 6, 5) + conv(6, 16, 5) + fc(400, 120) + fc(120, 84) + fc(84, 10),
  // ConvNetJS CIFAR-10 demo: 5x5 convs 16, 20, 20, FC 320 -> 10.
  cifarDemo: conv(3, 16, 5) + conv(16, 20, 5) + conv(20, 20, 5) + fc(320, 10),
};

describe('zoo parameter counts', () => {
  it('matches the hand arithmetic, which matches the PyTorch script', () => {
    // The same numbers as scripts/models/reference_param_counts.py prints.
    expect(BY_HAND).toEqual({
      alexnet: 62_378_344,
      zfnet: 107_627_624,
      vgg16c: 133_638_952,
      vgg11lrn: 132_863_336,
      allconv: 1_369_738,
      tinyVgg: 19_920,
      lenet5: 61_706,
      cifarDemo: 22_466,
    });
  });

  it.each(Object.entries({ ...PUBLISHED, ...BY_HAND }))('%s from its architecture description: %i', (name, expected) => {
    expect(describedParams(name)).toBe(expected);
  }, 30_000);

  // Built for real: the description and the module agree. VGG-16 (553 MB of weights) is the one big VGG built.
  it.each(['lenet5', 'cifarDemo', 'tinyVgg', 'allconv', 'googlenet', 'resnet18', 'resnet34', 'resnet50', 'alexnet', 'zfnet', 'vgg16'])(
    '%s built has the same count',
    (name) => {
      const expected = PUBLISHED[name] ?? BY_HAND[name]!;
      expect(countParams(models.createModel(name))).toBe(expected);
    },
    60_000,
  );

  it("builds GoogLeNet with the paper's 5x5 third branch on request", () => {
    // 3x3 -> 5x5 adds 16 weights per filter pair in each of the nine modules' third branch.
    const pairs = [16 * 32, 32 * 96, 16 * 48, 24 * 64, 24 * 64, 32 * 64, 32 * 128, 32 * 128, 48 * 128];
    const expected = 6_624_904 + 16 * pairs.reduce((a, b) => a + b, 0);
    expect(expected).toBe(7_005_832); // also from the PyTorch script
    expect(countParams(models.googlenet({ fiveByFive: true }))).toBe(expected);
  }, 30_000);

  it('takes numClasses and inChannels everywhere', () => {
    // VGG-16 for 10 classes on grayscale: the first CONV loses 2*9*64 weights, the last FC 990*4096 + 990.
    const d = analysis.summarize(models.vggConfig('D', { numClasses: 10, inChannels: 1 }), { input: [1, 224, 224] }).totals.params;
    expect(d).toBe(138_357_544 - 2 * 9 * 64 - 990 * 4097);
    expect(countParams(models.resnet18({ numClasses: 10 }))).toBe(11_689_512 - 990 * 513);
    expect(models.lenet5({ numClasses: 3 }).forward(ck.zeros([1, 1, 28, 28])).shape).toEqual([1, 3]);
  }, 30_000);

  it('sizes the FC layers from inputSize and refuses sizes that do not divide', () => {
    // VGG at 64x64: the last volume is 2x2x512.
    const rows = analysis.summarize(models.vggConfig('A', { inputSize: 64 }), { input: [3, 64, 64] }).rows;
    expect(rows.find((r) => r.kind === 'fc')!.weights).toBe(2 * 2 * 512 * 4096);
    expectConvkitError(() => models.vgg16({ inputSize: 100 }), 'multiple of 32', '100');
    expectConvkitError(() => models.alexnet({ inputSize: 224 }), 'does not fit', '(224 - 11 + 2*0)/4 + 1 = 54.25');
    expectConvkitError(() => models.createModel('vgg17'), "unknown model 'vgg17'", 'vgg16');
  });
});

describe('zoo forward passes', () => {
  it.each([
    ['lenet5', [2, 1, 28, 28], [2, 10]],
    ['cifarDemo', [2, 3, 32, 32], [2, 10]],
    ['tinyVgg', [1, 3, 64, 64], [1, 10]],
    ['allconv', [1, 3, 32, 32], [1, 10]],
  ] as const)('%s on %j gives %j', (name, input, output) => {
    const m = models.createModel(name).eval();
    const y = ck.noGrad(() => m.forward(ck.randn([...input], { seed: 1 })));
    expect(y.shape).toEqual(output);
    expect(y.dataSync().every(Number.isFinite)).toBe(true);
  });

  it('runs ResNet-18 (global average pooling: any size) and its blocks', () => {
    const m = models.resnet18({ numClasses: 7 }).eval();
    expect(ck.noGrad(() => m.forward(ck.randn([1, 3, 32, 32], { seed: 2 }))).shape).toEqual([1, 7]);
    const basic = new models.BasicBlock(8, 16, { stride: 2 });
    expect(basic.forward(ck.randn([2, 8, 9, 9], { seed: 3 })).shape).toEqual([2, 16, 5, 5]);
    const bottleneck = new models.Bottleneck(16, 4);
    expect(bottleneck.downsample).toBeNull(); // 16 = 4 * 4 channels in and out: identity shortcut
    expect(bottleneck.forward(ck.randn([1, 16, 6, 6], { seed: 4 })).shape).toEqual([1, 16, 6, 6]);
  }, 30_000);

  it('adds the shortcut: a block whose residual branch is zero returns relu(x)', () => {
    const block = new models.BasicBlock(4, 4).eval();
    block.bn2.weight!.assign(new Float32Array(4)); // the branch's last BN scales it to zero
    const x = ck.randn([1, 4, 5, 5], { seed: 5 });
    expectClose(ck.noGrad(() => block.forward(x)), ck.F.relu(x));
  });

  it('concatenates the four Inception branches', () => {
    const inc = new models.Inception(192, { ch1x1: 64, ch3x3red: 96, ch3x3: 128, ch5x5red: 16, ch5x5: 32, poolProj: 32 }).eval();
    expect(inc.outChannels).toBe(256);
    expect(ck.noGrad(() => inc.forward(ck.randn([1, 192, 7, 7], { seed: 6 }))).shape).toEqual([1, 256, 7, 7]);
  });

  it('trains through the in-place RELUs exactly as with ordinary ones', () => {
    const config = models.tinyVggConfig({ inputSize: 16 });
    const plain = JSON.parse(JSON.stringify(config).replaceAll('"inplace":true', '"inplace":false')) as ck.nn.ModuleConfig;
    const a = ck.nn.fromConfig(config);
    const b = ck.nn.fromConfig(plain);
    b.loadStateDict(a.stateDict());
    const x = ck.randn([2, 3, 16, 16], { seed: 7 });
    const target = ck.tensor([1, 4], [2], { dtype: 'int32' });
    for (const m of [a, b]) ck.F.crossEntropy(m.forward(x), target).backward();
    for (const [[name, pa], [, pb]] of a.namedParameters().map((p, i) => [p, b.namedParameters()[i]!] as const)) {
      expectClose(pa.grad!, pb.grad!, { what: name });
    }
  });
});

describe('zoo graph models save and load', () => {
  it('round-trips a residual network through a model file', () => {
    const m = new models.ResNet({ block: 'bottleneck', layers: [1, 2], widths: [4, 8], numClasses: 5 });
    // Give the batch norms non-trivial running statistics, then freeze them.
    ck.noGrad(() => m.forward(ck.randn([4, 3, 16, 16], { seed: 8 })));
    m.eval();
    const back = ck.io.deserializeModel(ck.io.serializeModel(m)).model;
    expect(back).toBeInstanceOf(models.ResNet);
    expect(back.getConfig()).toEqual(m.getConfig());
    const x = ck.randn([2, 3, 16, 16], { seed: 9 });
    expectClose(ck.noGrad(() => back.forward(x)), ck.noGrad(() => m.forward(x)));
  });

  it('names parameters as torchvision does, so PyTorch state dicts map one to one', () => {
    const keys = [...models.resnet18().stateDict().keys()];
    // Parameters first (in the children's order: the stages between bn1 and fc), then buffers, as PyTorch.
    expect(keys.slice(0, 4)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias', 'layer1.0.conv1.weight']);
    expect(keys).toContain('layer1.0.conv1.weight');
    expect(keys).toContain('layer2.0.downsample.0.weight');
    expect(keys).toContain('layer2.0.downsample.1.running_var');
    expect(keys).toContain('layer4.1.bn2.bias');
    expect(keys.filter((k) => !k.includes('running') && !k.includes('num_batches'))).toHaveLength(62); // torchvision: 62 parameter tensors
    expect(models.resnet18().namedParameters().slice(-2).map(([k]) => k)).toEqual(['fc.weight', 'fc.bias']);
    const g = [...models.googlenet().stateDict().keys()];
    expect(g).toContain('conv1.conv.weight');
    expect(g).toContain('inception3a.branch2.1.conv.weight');
    expect(g).toContain('inception5b.branch4.1.bn.running_var');
    expect(g).toContain('fc.bias');
  }, 30_000);
});
