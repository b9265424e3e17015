/**
 * The models scripts/torch/check-export.ts exports to PyTorch and compares: every zoo entry (at
 * a reduced input size where the architecture allows one, so VGG's and AlexNet's FC layers stay
 * small), plus two models no zoo entry has: one with every other layer type and setting that
 * needs care in PyTorch (per-side padding, fit: 'ceil' convolutions, transposed convolutions,
 * locally connected layers, every activation), and a custom graph module written out by the
 * generic path (its forward read from traceGraph).
 */
import * as ck from '../../src/index.js';
import { callChain, type GraphOps } from '../../src/nn/graph-trace.js';

export interface ExportCase {
  name: string;
  input: [number, number, number];
  make: () => ck.nn.Module;
}

/** Every zoo entry once (aliases such as 'cifar-demo' build the same function), at the smallest input from 28 up that it takes. */
function zooCases(): ExportCase[] {
  const seen = new Set<unknown>();
  const cases: ExportCase[] = [];
  for (const [name, make] of Object.entries(ck.models.zoo)) {
    if (seen.has(make)) continue;
    seen.add(make);
    const shape = ck.models.zooInputShape(name);
    let size = shape[1];
    for (let s = Math.min(28, shape[1]); s < shape[1]; s++) {
      try {
        ck.analysis.traceConfig(ck.models.zooConfig(name, { inputSize: s, numClasses: 10 }), [shape[0], s, s]);
        size = s;
        break;
      } catch {
        // not a size this architecture takes
      }
    }
    cases.push({ name, input: [shape[0], size, size], make: () => ck.models.createModel(name, { inputSize: size, numClasses: 10 }) });
  }
  return cases;
}

/** A residual block with a concatenation and a list of modules, not from the zoo: written by the generic path. */
class MixBlock extends ck.models.GraphModule {
  a = new ck.nn.Conv2d(8, 8, 3, { padding: 1 });
  bn = new ck.nn.BatchNorm2d(8);
  act = new ck.nn.ReLU();
  heads = [new ck.nn.Conv2d(8, 2, 1), new ck.nn.Conv2d(8, 2, 3, { padding: 1 })];
  c = new ck.nn.Sequential(new ck.nn.MaxPool2d(3, { stride: 1, padding: 1 }), new ck.nn.Conv2d(8, 4, 1));
  traceGraph<V>(x: V, ops: GraphOps<V>): V {
    const h = ops.add(callChain(ops, [this.a, this.bn, this.act], x), x);
    return ops.cat([...this.heads.map((m) => ops.call(m, h)), ops.call(this.c, h), h]);
  }
}

/** Every other layer and setting whose PyTorch form needs care, in one Sequential. */
function layerZoo(): ck.nn.Module {
  const n = ck.nn;
  return new n.Sequential(
    new n.Conv2d(3, 8, 4, { padding: 'same' }), // even kernel: padding differs per side
    new n.LeakyReLU({ negativeSlope: 0.2 }),
    new n.Conv2d(8, 8, 3, { stride: 2, fit: 'ceil', paddingMode: 'reflect', padding: 1 }),
    new n.ELU({ alpha: 0.5 }),
    new n.Conv2d(8, 8, 3, { dilation: 2, groups: 4, padding: [2, 2, 1, 3], bias: false }),
    new n.InstanceNorm2d(8, { affine: true, trackRunningStats: true }),
    new n.GELU({ approximate: 'tanh' }),
    new n.ConvTranspose2d(8, 6, 3, { stride: 2, padding: 1, outputPadding: 1 }),
    new n.SiLU(),
    new n.ConvTranspose2d(6, 8, 3, { padding: [0, 1, 1, 0] }),
    new n.Hardswish(),
    new n.ReflectionPad2d([1, 0, 2, 1]),
    new n.CircularPad2d(1),
    new n.ReplicationPad2d(1),
    new n.ConstantPad2d([0, 1, 1, 0], 0.5),
    new n.AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
    new n.Mish(),
    new MixBlock(),
    new n.BatchNorm2d(16),
    new n.ReLU6(),
    new n.MaxPool2d(3, { stride: 2, fit: 'ceil', dilation: 1 }),
    new n.LPPool2d(2, 2, { fit: 'floor' }),
    new n.SELU(),
    new n.LocallyConnected2d(16, 6, 2, { inputSize: [4, 4], padding: 1 }),
    new n.Hardsigmoid(),
    new n.AdaptiveMaxPool2d([2, 3]),
    new n.Softplus({ beta: 2, threshold: 5 }),
    new n.PReLU(6),
    new n.Tanh(),
    new n.Flatten(),
    new n.Linear(36, 20, { bias: false }),
    new n.BatchNorm1d(20),
    new n.Hardtanh({ minVal: -0.5, maxVal: 2 }),
    new n.Sigmoid(),
    new n.Identity(),
    new n.Dropout(0.3),
    new n.Linear(20, 10),
    new n.LogSoftmax(1),
  );
}

/**
 * A CIFAR ResNet that is not what its constructor builds (plain RELUs in its blocks): its
 * blocks are written out layer by layer, each option A shortcut as the ZeroPadShortcut helper
 * class (8 -> 13 channels: 2 zero channels before, 3 after); the 9x9 input takes the odd-size
 * path (9 -> 5 -> 3).
 */
function cifarResNetGeneric(): ck.nn.Module {
  const m = new ck.models.CifarResNet({ blocks: 1, widths: [4, 8, 13], numClasses: 5, inChannels: 2 });
  for (const stage of m.stages) for (const block of stage.children()) (block as ck.models.CifarBasicBlock).relu = new ck.nn.ReLU();
  return m;
}

export const PATTERN = 'INPUT[32x32x3] -> [CONV3-16 -> RELU -> BN]*2 -> POOL2 -> CONV5-24/1p2 -> RELU -> NORM -> AVGPOOL2 -> DROPOUT0.3 -> FC48 -> BN -> RELU -> FC10';

export const CASES: ExportCase[] = [
  ...zooCases(),
  { name: 'layer-zoo', input: [3, 20, 22], make: layerZoo },
  { name: 'cifar-resnet-generic', input: [2, 9, 9], make: cifarResNetGeneric },
];
