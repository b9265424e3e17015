/**
 * The reference workloads of ../shared/bench/README.md, built from convkit's own layers so the
 * benchmark does not depend on how the zoo spells them: the same architectures the peer
 * scripts time (make_models.py), plus their multiply-add counts for GFLOP/s.
 */
import * as ck from '../src/index.js';

const { nn } = ck;
const FLOOR = { fit: 'floor' } as const;

export function conv3x3(): ck.nn.Module {
  return new nn.Sequential(new nn.Conv2d(64, 64, 3, { padding: 1 }));
}

export function vgg16(): ck.nn.Module {
  const layers: ck.nn.Module[] = [];
  let c = 3;
  for (const v of [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'] as const) {
    if (v === 'M') layers.push(new nn.MaxPool2d(2));
    else {
      layers.push(new nn.Conv2d(c, v, 3, { padding: 1 }), new nn.ReLU());
      c = v;
    }
  }
  layers.push(new nn.Flatten(), new nn.Linear(7 * 7 * 512, 4096), new nn.ReLU(), new nn.Linear(4096, 4096), new nn.ReLU(), new nn.Linear(4096, 1000));
  return new nn.Sequential(...layers);
}

/** ResNet-18's basic block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)). */
class Block extends nn.Module {
  readonly c1: ck.nn.Module;
  readonly b1: ck.nn.Module;
  readonly c2: ck.nn.Module;
  readonly b2: ck.nn.Module;
  readonly relu = new nn.ReLU();
  readonly sc: ck.nn.Module | null;
  constructor(cin: number, cout: number, stride: number) {
    super();
    this.c1 = new nn.Conv2d(cin, cout, 3, { stride, padding: 1, bias: false, ...FLOOR });
    this.b1 = new nn.BatchNorm2d(cout);
    this.c2 = new nn.Conv2d(cout, cout, 3, { padding: 1, bias: false });
    this.b2 = new nn.BatchNorm2d(cout);
    this.sc = stride === 1 && cin === cout ? null
      : new nn.Sequential(new nn.Conv2d(cin, cout, 1, { stride, bias: false, ...FLOOR }), new nn.BatchNorm2d(cout));
  }
  forward(x: ck.Tensor): ck.Tensor {
    // As nn.Sequential runs layers (ck.nn.runLayers): for inference each conv -> bn (-> relu)
    // is one convolution call with the batch norm folded in; in training, bn + relu fuse.
    const y = nn.runLayers([this.c1, this.b1, this.relu, this.c2, this.b2], x);
    return ck.F.add(y, this.sc ? this.sc.forward(x) : x, { activation: 'relu' });
  }
}

export function resnet18(): ck.nn.Module {
  const layers: ck.nn.Module[] = [
    new nn.Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false, ...FLOOR }), new nn.BatchNorm2d(64), new nn.ReLU(),
    new nn.MaxPool2d(3, { stride: 2, padding: 1, ...FLOOR }),
  ];
  let c = 64;
  for (const [cout, stride] of [[64, 1], [128, 2], [256, 2], [512, 2]] as const) {
    layers.push(new Block(c, cout, stride), new Block(cout, cout, 1));
    c = cout;
  }
  layers.push(new nn.AdaptiveAvgPool2d(1), new nn.Flatten(), new nn.Linear(512, 1000));
  return new nn.Sequential(...layers);
}

export function lenet5(): ck.nn.Module {
  return new nn.Sequential(
    new nn.Conv2d(1, 6, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(6, 16, 5), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(),
    new nn.Linear(400, 120), new nn.ReLU(), new nn.Linear(120, 84), new nn.ReLU(), new nn.Linear(84, 10),
  );
}

export function cifarDemo(): ck.nn.Module {
  return new nn.Sequential(
    new nn.Conv2d(3, 16, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(16, 20, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(20, 20, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(320, 10),
  );
}

export interface Workload {
  name: string;
  make: () => ck.nn.Module;
  /** Input [N, C, H, W]. */
  shape: [number, number, number, number];
  /** Multiply-adds of one forward pass over the whole batch (conv + FC layers). */
  macs: number;
  train: boolean;
}

/** MACs of a CONV layer: K * C/g * kh * kw per output pixel. */
const conv = (k: number, c: number, f: number, out: number): number => k * c * f * f * out * out;

const vggMacs = (() => {
  let s = 0;
  let c = 3;
  let hw = 224;
  for (const v of [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'] as const) {
    if (v === 'M') hw /= 2;
    else { s += conv(v, c, 3, hw); c = v; }
  }
  return s + 25088 * 4096 + 4096 * 4096 + 4096 * 1000;
})();

const resnetMacs = (() => {
  let s = conv(64, 3, 7, 112);
  let c = 64;
  let hw = 56;
  for (const [cout, stride] of [[64, 1], [128, 2], [256, 2], [512, 2]] as const) {
    const out = hw / stride;
    s += conv(cout, c, 3, out) + conv(cout, cout, 3, out) + (stride !== 1 || c !== cout ? conv(cout, c, 1, out) : 0);
    s += 2 * conv(cout, cout, 3, out);
    c = cout;
    hw = out;
  }
  return s + 512 * 1000;
})();

export const WORKLOADS: Workload[] = [
  { name: 'conv3x3_64x56', make: conv3x3, shape: [1, 64, 56, 56], macs: conv(64, 64, 3, 56), train: false },
  { name: 'vgg16', make: vgg16, shape: [1, 3, 224, 224], macs: vggMacs, train: false },
  { name: 'resnet18', make: resnet18, shape: [1, 3, 224, 224], macs: resnetMacs, train: false },
  { name: 'lenet5', make: lenet5, shape: [64, 1, 28, 28], macs: 64 * (conv(6, 1, 5, 28) + conv(16, 6, 5, 10) + 400 * 120 + 120 * 84 + 84 * 10), train: true },
  { name: 'cifar_demo', make: cifarDemo, shape: [64, 3, 32, 32], macs: 64 * (conv(16, 3, 5, 32) + conv(20, 16, 5, 16) + conv(20, 20, 5, 8) + 3200), train: true },
];
