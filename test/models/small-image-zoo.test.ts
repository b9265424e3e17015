/**
 * The zoo for small images: the CIFAR ResNets of He et al. 2016, section 4.2 (resnet20/32/56,
 * option A shortcuts) and the batch-norm VGG-style net (vggSmallBn). Parameter counts against
 * the paper and hand arithmetic, shapes through every stage (odd sizes included), the
 * zero-padding shortcut's values and gradients, a few training steps on every backend with
 * the js backend as the oracle, and the model file round trip. ONNX through onnxruntime-node:
 * test/io/onnx-export-small-zoo.test.ts; PyTorch: test/io/pytorch-export.test.ts and
 * `npm run test:torch`.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectClose, expectConvkitError } from '../helpers/assert.js';
import { describeEachBackend, hostBackends } from '../helpers/backends.js';
import { resolveModel } from '../../src/cli/model-spec.js';

const { models, analysis } = ck;

const countParams = (m: ck.nn.Module): number => m.parameters().reduce((s, p) => s + p.size, 0);
const describedParams = (name: string, opts: ck.models.ZooOptions): number =>
  analysis.summarize(models.zooConfig(name, opts), { input: models.zooInputShape(name, opts) }).totals.params;

/**
 * The paper's architecture counted by hand: CONV3 without bias (9 * in * out), a BN after each
 * (scale and shift: 2 per channel), three stages of n blocks of two CONV3 at 16/32/64 filters,
 * the option A shortcut without parameters, FC 64 -> classes with bias. The same networks built
 * in plain PyTorch (scripts/models/reference_param_counts.py, torch 1.13) give the same counts:
 * 269,722 / 464,154 / 853,018, and vggSmallBn 871,338 (28x28x1) / 1,117,674 (32x32x3).
 */
function resnetByHand(n: number, inChannels: number, numClasses: number): number {
  let total = 9 * inChannels * 16 + 2 * 16;
  let c = 16;
  for (const w of [16, 32, 64]) {
    for (let j = 0; j < n; j++) {
      total += 9 * c * w + 2 * w + 9 * w * w + 2 * w;
      c = w;
    }
  }
  return total + 64 * numClasses + numClasses;
}

/** [CONV3-32 -> BN]*2, [CONV3-64 -> BN]*2 (no CONV bias), FC 64*(S/4)^2 -> 256, BN1d, FC 256 -> classes. */
function vggSmallByHand(inChannels: number, size: number, numClasses: number): number {
  const side = Math.floor(Math.floor(size / 2) / 2);
  const convs = 9 * (inChannels * 32 + 32 * 32 + 32 * 64 + 64 * 64) + 2 * (32 + 32 + 64 + 64);
  return convs + (64 * side * side * 256 + 256) + 2 * 256 + (256 * numClasses + numClasses);
}

const RESNETS = [
  ['resnet20', 3],
  ['resnet32', 5],
  ['resnet56', 9],
] as const;

describe('small-image zoo: parameter counts', () => {
  it('pins the CIFAR ResNets against the paper (0.27M, 0.46M, 0.85M for 10 classes on 32x32x3)', () => {
    expect(RESNETS.map(([, n]) => resnetByHand(n, 3, 10))).toEqual([269_722, 464_154, 853_018]);
    for (const [name, n] of RESNETS) {
      const m = models.createModel(name);
      expect(countParams(m), name).toBe(resnetByHand(n, 3, 10));
      expect(describedParams(name, {}), name).toBe(resnetByHand(n, 3, 10));
      expect(m.getConfig().args, name).toEqual([{ blocks: n, numClasses: 10, inChannels: 3 }]);
    }
    // The paper's table 6, to two decimals of a million.
    expect(RESNETS.map(([, n]) => Math.round(resnetByHand(n, 3, 10) / 1e4) / 100)).toEqual([0.27, 0.46, 0.85]);
    expect((models.createModel('resnet56') as ck.models.CifarResNet).depth).toBe(56);
  });

  it.each([
    [1, 28, 28, 10],
    [3, 32, 32, 7],
    [3, 29, 29, 2],
  ])('counts every entry on %i-channel %ix%i inputs with %i classes (built and described agree)', (c, s, _, k) => {
    const opts = { inChannels: c, inputSize: s, numClasses: k };
    // Built once (the deeper ones repeat its blocks), described for all.
    expect(countParams(models.resnet20(opts))).toBe(resnetByHand(3, c, k));
    for (const [name, n] of RESNETS) expect(describedParams(name, opts), name).toBe(resnetByHand(n, c, k));
    expect(countParams(models.vggSmallBn(opts))).toBe(vggSmallByHand(c, s, k));
    expect(describedParams('vgg-small-bn', opts)).toBe(vggSmallByHand(c, s, k));
  });

  it('pins vggSmallBn: 871,338 parameters on 28x28x1 (FC 3136 -> 256), 1,117,674 on 32x32x3 (FC 4096 -> 256)', () => {
    expect(vggSmallByHand(1, 28, 10)).toBe(871_338);
    expect(vggSmallByHand(3, 32, 10)).toBe(1_117_674);
    expect(countParams(models.vggSmallBn())).toBe(871_338);
    expect(countParams(models.createModel('vgg-small-bn', { inChannels: 3, inputSize: 32 }))).toBe(1_117_674);
    const fc = (models.vggSmallBn({ inputSize: 30 }).at(-5) as ck.nn.Linear);
    expect([fc.inFeatures, fc.outFeatures]).toEqual([64 * 7 * 7, models.VGG_SMALL_BN.hidden]);
  });

  it('refuses bad options with clear errors', () => {
    expectConvkitError(() => models.resnet20({ numClasses: 0 }), 'resnet20', 'numClasses', 'positive integer');
    expectConvkitError(() => models.resnet56({ inChannels: 1.5 }), 'resnet56', 'inChannels');
    expectConvkitError(() => models.vggSmallBn({ inputSize: 3 }), 'vggSmallBn', 'at least 4', '3');
    expectConvkitError(() => new models.CifarResNet({ blocks: 0 }), 'CifarResNet', 'blocks');
    expectConvkitError(() => new models.CifarResNet({ blocks: 1, widths: [32, 16] }), 'widths must not decrease');
    expectConvkitError(() => new models.ZeroPadShortcut(8, 4), 'ZeroPadShortcut', 'at least inChannels');
    expectConvkitError(() => new models.ZeroPadShortcut(4, 8, { stride: 0 }), 'ZeroPadShortcut', 'stride');
    expectConvkitError(() => new models.ZeroPadShortcut(4, 8).forward(ck.zeros([1, 3, 4, 4])), 'ZeroPadShortcut', '[N, 4, H, W]', '[1, 3, 4, 4]');
  });
});

describe('small-image zoo: shapes', () => {
  /** The activation after the stem and after each stage. */
  function stageShapes(m: ck.models.CifarResNet, x: ck.Tensor): number[][] {
    return ck.noGrad(() => {
      let h = m.relu.forward(m.bn1.forward(m.conv1.forward(x)));
      const out = [h.shape.slice()];
      for (const s of m.stages) {
        h = s.forward(h);
        out.push(h.shape.slice());
      }
      out.push(m.forward(x).shape.slice());
      return out;
    });
  }

  it.each([
    [3, 32, 10, [32, 16, 8]],
    [1, 28, 7, [28, 14, 7]],
    // Odd sizes: the stride-2 CONV and the subsampled shortcut both give ceil(S / 2).
    [3, 13, 10, [13, 7, 4]],
    [1, 7, 3, [7, 4, 2]],
    [1, 1, 2, [1, 1, 1]],
  ])('resnet20 with %i channels, size %i, %i classes: stage sides %j', (c, s, k, sides) => {
    const m = models.resnet20({ inChannels: c, inputSize: s, numClasses: k }).eval();
    const shapes = stageShapes(m, ck.randn([2, c, s, s], { seed: 1 }));
    expect(shapes).toEqual([[2, 16, s, s], ...[16, 32, 64].map((w, i) => [2, w, sides[i]!, sides[i]!]), [2, k]]);
    // The summary's trace agrees, layer by layer (it reads outputShape, not the tensors).
    const rows = analysis.traceModule(m, [c, s, s]);
    expect(rows.at(-1)!.output).toEqual([k]);
    expect(rows.find((r) => r.path === 'layer3.0.shortcut')!.output).toEqual([64, sides[2], sides[2]]);
  });

  it.each(['resnet32', 'resnet56'])('%s gives one score per class on 28x28x1 and 32x32x3', (name) => {
    for (const [c, s, k] of [[1, 28, 7], [3, 32, 10]] as const) {
      const m = models.createModel(name, { inChannels: c, inputSize: s, numClasses: k }).eval();
      const y = ck.noGrad(() => m.forward(ck.randn([1, c, s, s], { seed: 2 })));
      expect(y.shape).toEqual([1, k]);
      expect(y.dataSync().every(Number.isFinite)).toBe(true);
    }
  });

  it.each([
    [1, 28, 10],
    [3, 32, 7],
    [3, 30, 10],
  ])('vggSmallBn on %ix%ix%i with %i classes', (c, s, k) => {
    const m = models.createModel('vgg-small-bn', { inChannels: c, inputSize: s, numClasses: k }).eval();
    expect(ck.noGrad(() => m.forward(ck.randn([2, c, s, s], { seed: 3 }))).shape).toEqual([2, k]);
    expect(models.zooInputShape('vggSmallBn')).toEqual([1, 28, 28]);
    expect(models.zooInputShape('resnet56')).toEqual([3, 32, 32]);
  });

  it('has one shortcut with padding per widening block, none elsewhere', () => {
    const m = models.resnet32();
    const shortcuts = m.namedModules().filter(([, x]) => x instanceof models.ZeroPadShortcut);
    expect(shortcuts.map(([p]) => p)).toEqual(['layer2.0.shortcut', 'layer3.0.shortcut']);
    expect(shortcuts.map(([, s]) => [(s as ck.models.ZeroPadShortcut).padBefore, (s as ck.models.ZeroPadShortcut).padAfter])).toEqual([[8, 8], [16, 16]]);
    expect([...m.stateDict().keys()].slice(0, 4)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias', 'layer1.0.conv1.weight']);
    expect(m.namedParameters().slice(-2).map(([k]) => k)).toEqual(['fc.weight', 'fc.bias']);
  });
});

describeEachBackend('ZeroPadShortcut', () => {
  it.each([
    [3, 8, 2, 7, 5],
    [4, 8, 2, 6, 6],
    [2, 2, 2, 5, 3],
    [3, 6, 1, 3, 4],
    [1, 4, 3, 8, 1],
  ])('%i -> %i channels, stride %i on %ix%i: x[:, :, ::s, ::s] between zero channels, and its gradient', (cin, cout, s, h, w) => {
    const sc = new models.ZeroPadShortcut(cin, cout, { stride: s });
    const x = ck.randn([2, cin, h, w], { seed: 4 });
    x.requiresGrad = true;
    const y = sc.forward(x);
    const oh = Math.ceil(h / s);
    const ow = Math.ceil(w / s);
    expect(y.shape).toEqual([2, cout, oh, ow]);
    expect(sc.outputShape(x.shape)).toEqual(y.shape);
    const before = Math.floor((cout - cin) / 2);
    const xv = x.dataSync();
    const want = new Float32Array(2 * cout * oh * ow);
    const g = ck.randn([2, cout, oh, ow], { seed: 5 });
    const gv = g.dataSync();
    const wantGrad = new Float32Array(xv.length);
    for (let n = 0; n < 2; n++) {
      for (let c = 0; c < cin; c++) {
        for (let i = 0; i < oh; i++) {
          for (let j = 0; j < ow; j++) {
            const out = ((n * cout + c + before) * oh + i) * ow + j;
            const src = ((n * cin + c) * h + i * s) * w + j * s;
            want[out] = xv[src]!;
            wantGrad[src] = gv[out]!;
          }
        }
      }
    }
    expect(Array.from(y.dataSync())).toEqual(Array.from(want));
    ck.F.sum(ck.F.mul(y, g)).backward();
    expect(Array.from(x.grad!.dataSync())).toEqual(Array.from(wantGrad));
  });
});

interface Trained {
  /** The first step's loss, logits and gradients (train mode: batch statistics). */
  loss: number;
  logits: Float32Array;
  grads: Map<string, Float32Array>;
  /** The loss before each of the steps. */
  losses: number[];
  /** The largest change of any weight. */
  moved: number;
}

/** A few SGD steps on a fixed batch, from seeded weights. */
function trainFew(make: () => ck.nn.Module, input: [number, number, number], classes: number, steps: number): Trained {
  ck.manualSeed(11);
  const m = make().train();
  const x = ck.randn([6, ...input], { seed: 12 });
  const target = ck.tensor(Array.from({ length: 6 }, (_, i) => (i * 3) % classes), [6], { dtype: 'int32' });
  const before = m.parameters().map((p) => p.dataSync().slice());
  const opt = new ck.optim.SGD(m.parameters(), { lr: 0.01 });
  const first = { loss: 0, logits: new Float32Array(), grads: new Map<string, Float32Array>() };
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    ck.tidy(() => {
      opt.zeroGrad();
      const logits = m.forward(x);
      const loss = ck.F.crossEntropy(logits, target);
      loss.backward();
      losses.push(loss.item());
      if (i === 0) {
        first.loss = loss.item();
        first.logits = logits.dataSync().slice();
        for (const [name, p] of m.namedParameters()) first.grads.set(name, p.grad!.dataSync().slice());
      }
      opt.step();
    });
  }
  const moved = Math.max(...m.parameters().map((p, k) => p.dataSync().reduce((d, v, i) => Math.max(d, Math.abs(v - before[k]![i]!)), 0)));
  return { ...first, losses, moved };
}

/** Small inputs keep the steps fast; the odd sizes take the floor/ceil path of every stride. */
const TRAIN_CASES: [string, () => ck.nn.Module, [number, number, number], number][] = [
  ['resnet20 on 7x7x3 (7 -> 4 -> 2), 7 classes', () => models.resnet20({ inputSize: 7, numClasses: 7 }), [3, 7, 7], 7],
  ['resnet32 on 6x6x1 (6 -> 3 -> 2), 10 classes', () => models.resnet32({ inChannels: 1, inputSize: 6 }), [1, 6, 6], 10],
  ['resnet56 on 5x5x3 (5 -> 3 -> 2), 5 classes', () => models.resnet56({ inputSize: 5, numClasses: 5 }), [3, 5, 5], 5],
  ['vggSmallBn on 12x12x1, 10 classes', () => models.vggSmallBn({ inputSize: 12 }), [1, 12, 12], 10],
  ['vggSmallBn on 9x9x3 (9 -> 4 -> 2), 7 classes', () => models.vggSmallBn({ inChannels: 3, inputSize: 9, numClasses: 7 }), [3, 9, 9], 7],
];

describe('small-image zoo: training steps on every backend', () => {
  // The first step is compared with the js backend's, gradients included; the second only has
  // to lower the loss: a deep net's rounding differences grow from step to step.
  it.each(TRAIN_CASES)('%s: every backend computes the js gradients, and the loss goes down', (_, make, input, classes) => {
    const results = new Map<string, Trained>();
    const previous = ck.getBackendName();
    try {
      for (const backend of hostBackends()) {
        ck.setBackendSync(backend);
        results.set(backend, trainFew(make, input, classes, 2));
      }
    } finally {
      ck.setBackendSync(previous);
    }
    expect(results.size).toBeGreaterThanOrEqual(2);
    const oracle = results.get('js')!;
    for (const [backend, r] of results) {
      expect(r.losses.every(Number.isFinite), backend).toBe(true);
      expect(r.losses.at(-1)!, `${backend}: losses ${r.losses}`).toBeLessThan(r.losses[0]!);
      expect(r.moved, backend).toBeGreaterThan(0);
      expectClose([r.loss], [oracle.loss], { rtol: 1e-5, atol: 1e-5, what: `${backend} first loss` });
      expectClose(r.logits, oracle.logits, { rtol: 1e-4, atol: 1e-4, what: `${backend} logits` });
      for (const [name, g] of oracle.grads) {
        const scale = g.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
        expectClose(r.grads.get(name)!, g, { rtol: 1e-3, atol: 1e-3 * scale + 1e-6, what: `${backend} gradient of ${name}` });
      }
    }
  }, 60_000);
});

describe('small-image zoo: full-size inference on every backend', () => {
  it.each([
    ['resnet20', { inChannels: 1, inputSize: 28, numClasses: 10 }],
    ['resnet20', { inChannels: 3, inputSize: 32, numClasses: 7 }],
    ['vggSmallBn', { inChannels: 1, inputSize: 28, numClasses: 7 }],
    ['vggSmallBn', { inChannels: 3, inputSize: 32, numClasses: 10 }],
  ] as const)('%s %j: every backend gives the js outputs', (name, opts) => {
    const outputs = new Map<string, Float32Array>();
    const previous = ck.getBackendName();
    try {
      for (const backend of hostBackends()) {
        ck.setBackendSync(backend);
        ck.manualSeed(15);
        const m = models.createModel(name, opts);
        const x = ck.randn([2, opts.inChannels, opts.inputSize, opts.inputSize], { seed: 16 });
        ck.noGrad(() => m.forward(x)); // batch statistics into the running ones
        outputs.set(backend, ck.noGrad(() => m.eval().forward(x)).dataSync().slice());
      }
    } finally {
      ck.setBackendSync(previous);
    }
    const oracle = outputs.get('js')!;
    expect(oracle).toHaveLength(2 * opts.numClasses);
    for (const [backend, y] of outputs) expectClose(y, oracle, { rtol: 1e-4, atol: 1e-4, what: `${backend} outputs` });
  }, 60_000);
});

describe('small-image zoo: model files', () => {
  it.each([
    ['resnet20', { inChannels: 1, inputSize: 28, numClasses: 7 }],
    ['vgg-small-bn', { inChannels: 3, inputSize: 32, numClasses: 10 }],
  ] as const)('%s %j round-trips through a model file with its batch-norm statistics', (name, opts) => {
    ck.manualSeed(13);
    const m = models.createModel(name, opts);
    const x = ck.randn([4, opts.inChannels, opts.inputSize, opts.inputSize], { seed: 14 });
    ck.noGrad(() => m.forward(x)); // running statistics away from their initial values
    m.eval();
    const back = ck.io.deserializeModel(ck.io.serializeModel(m)).model;
    expect(back.getConfig()).toEqual(m.getConfig());
    expect(back.constructor).toBe(m.constructor);
    expect(Array.from(ck.noGrad(() => back.forward(x)).dataSync())).toEqual(Array.from(ck.noGrad(() => m.forward(x)).dataSync()));
  });

  it("is built for the data by the CLI's --model (classes, channels, size)", async () => {
    const r = await resolveModel('resnet32', { numClasses: 7, inChannels: 1, inputSize: 28 });
    const m = r.model as ck.models.CifarResNet;
    expect([m.conv1.inChannels, m.fc.outFeatures, m.depth]).toEqual([1, 7, 32]);
    const v = (await resolveModel('vgg-small-bn', { numClasses: 3, inChannels: 3, inputSize: 32 })).model as ck.nn.Sequential;
    expect(ck.noGrad(() => v.eval().forward(ck.zeros([1, 3, 32, 32]))).shape).toEqual([1, 3]);
  });

  it('runs optimized for inference (batch norms folded, the shortcut as a plain layer) with the same outputs', () => {
    ck.manualSeed(17);
    const m = models.resnet20({ inputSize: 13, numClasses: 4 });
    const x = ck.randn([3, 3, 13, 13], { seed: 18 });
    ck.noGrad(() => m.forward(x));
    m.eval();
    const want = ck.noGrad(() => m.forward(x));
    const scale = want.dataSync().reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    expectClose(ck.noGrad(() => ck.nn.optimizeForInference(m).forward(x)), want, { rtol: 1e-4, atol: 1e-5 * scale });
  });

  it('summarizes without building where it can: vggSmallBn is a layer list, the ResNets one graph node', () => {
    expect(models.zooConfig('vgg-small-bn').type).toBe('Sequential');
    expect(models.zooConfig('resnet56', { numClasses: 3, inChannels: 1 })).toEqual({ type: 'CifarResNet', args: [{ blocks: 9, numClasses: 3, inChannels: 1 }] });
    const r = analysis.summarize(models.zooConfig('resnet20'), { input: [3, 32, 32] });
    // The CONVs and the FC by hand (the shortcuts add none), as bench/peers/params.json has from PyTorch:
    // stem 32*32*16*27; stage 1: 6 CONVs 32*32*16*16*9; stages 2 and 3: a CONV from half the
    // channels at half the size, then 5 at full width; FC 64*10.
    const stage = 32 * 32 * 16 * 16 * 9;
    expect(r.totals.macs).toBe(32 * 32 * 16 * 27 + 6 * stage + 2 * (stage / 2 + 5 * stage) + 640);
    expect(r.totals.macs).toBe(40_551_040);
    expect(r.rows.filter((row) => row.path.endsWith('shortcut')).map((row) => row.label)).toEqual(['SHORTCUT-32/2', 'SHORTCUT-64/2']);
    // The receptive field follows the shortcuts (a 1x1 window of stride 2): the stem's CONV3 sees 3
    // pixels, stage 1's six CONV3 add 2 each (15), stage 2's add 2 then 4 each (17 + 5*4 = 37), stage
    // 3's 4 then 8 (41 + 5*8 = 81), and the global pool the 8x8 map at 4 pixels apart (81 + 7*4).
    const field = (path: string): readonly number[] | null => r.rows.find((row) => row.path === path)!.receptiveField;
    expect([field('layer1.2.add'), field('layer2.2.add'), field('layer3.2.add'), field('fc')]).toEqual([[15, 15], [37, 37], [81, 81], [109, 109]]);
  });
});
