/**
 * The networks of the bench suite (bench/workloads.json), built from convkit's own layers and
 * zoo: the same architectures as the PyTorch definitions of bench/peers/torch_models.py, which
 * the peers time (parameter counts pinned in bench/peers/params.json).
 */
import { readFileSync } from 'node:fs';
import * as ck from '../src/index.js';
import { bnConvnet, resnet20, vggBnCifar } from './networks/cifar.js';
import { mobilenet56 } from './networks/mobilenet.js';

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
    // Fused as said here (ck.nn.runLayers): for inference each conv -> bn (-> relu) is one
    // convolution call with the batch norm folded in.
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

export function dilated3x3(): ck.nn.Module {
  return new nn.Sequential(new nn.Conv2d(64, 64, 3, { padding: 2, dilation: 2 }));
}

export function convTranspose4x4(): ck.nn.Module {
  return new nn.Sequential(new nn.ConvTranspose2d(64, 32, 4, { stride: 2, padding: 1 }));
}

/** How each workload of bench/workloads.json is built in convkit. */
export const BUILDERS: Record<string, () => ck.nn.Module> = {
  conv3x3_64x56: conv3x3,
  vgg16,
  resnet18,
  lenet5,
  cifar_demo: cifarDemo,
  bn_convnet: bnConvnet,
  vgg_bn_cifar: vggBnCifar,
  resnet20,
  resnet18_112: resnet18,
  resnet50: () => ck.models.resnet50(),
  googlenet: () => ck.models.googlenet(),
  alexnet: () => ck.models.alexnet(),
  zfnet: () => ck.models.zfnet(),
  mobilenet_56: mobilenet56,
  dilated3x3_64x56: dilated3x3,
  convT4x4_64x28: convTranspose4x4,
};

export type Kind = 'infer' | 'train';

export interface Workload {
  name: string;
  make: () => ck.nn.Module;
  /** Input of one image [C, H, W]. */
  input: [number, number, number];
  /** Classes of the training labels (0: a single layer, inference only). */
  classes: number;
  runs: { kind: Kind; batch: number }[];
  about: string;
  /** What PyTorch's twin counts (bench/peers/params.json): parameters, and multiply-adds of one image's forward pass. */
  torch: { params: number; macs: number } | undefined;
}

interface WorkloadEntry {
  name: string;
  input: [number, number, number];
  classes: number;
  runs: [Kind, number][];
  about: string;
}

const file = new URL('./workloads.json', import.meta.url);
const pinned = JSON.parse(readFileSync(new URL('./peers/params.json', import.meta.url), 'utf8')) as Record<string, { params: number; macs: number }>;

export const WORKLOADS: Workload[] = (JSON.parse(readFileSync(file, 'utf8')) as { workloads: WorkloadEntry[] }).workloads.map((w) => {
  const make = BUILDERS[w.name];
  if (!make) throw new ck.ConvkitError(`bench/models.ts has no convkit definition for workload '${w.name}' of bench/workloads.json`);
  return { ...w, make, runs: w.runs.map(([kind, batch]) => ({ kind, batch })), torch: pinned[w.name] };
});

/** Parameters of a model, counted as PyTorch counts them (BN running statistics are buffers). */
export function parameterCount(model: ck.nn.Module): number {
  return model.parameters().reduce((s, p) => s + p.size, 0);
}
