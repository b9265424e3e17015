/**
 * The small-image training workloads of the bench suite, from convkit's layers; their PyTorch
 * twins are in bench/peers/torch_models.py (the parameter counts must agree: params.json).
 */
import * as ck from '../../src/index.js';

const { nn } = ck;

/** CONV3 (no bias: BN's shift replaces it) -> BN -> RELU, keeping the size unless strided. */
export function convBnRelu(cin: number, cout: number, opts: { kernel?: number; stride?: number; groups?: number } = {}): ck.nn.Module[] {
  const k = opts.kernel ?? 3;
  return [
    new nn.Conv2d(cin, cout, k, { stride: opts.stride ?? 1, padding: (k - 1) / 2, groups: opts.groups ?? 1, bias: false, fit: 'floor' }),
    new nn.BatchNorm2d(cout),
    new nn.ReLU(),
  ];
}

/** [[CONV3-32 -> BN -> RELU]*2 -> POOL2]*2 -> FC128 -> RELU -> DROPOUT -> FC10 on 28x28x1. */
export function bnConvnet(): ck.nn.Module {
  const layers: ck.nn.Module[] = [];
  let c = 1;
  for (let i = 0; i < 2; i++) {
    layers.push(...convBnRelu(c, 32), ...convBnRelu(32, 32), new nn.MaxPool2d(2));
    c = 32;
  }
  layers.push(new nn.Flatten(), new nn.Linear(32 * 7 * 7, 128), new nn.ReLU(), new nn.Dropout(0.5), new nn.Linear(128, 10));
  return new nn.Sequential(...layers);
}

/** VGG-style with BN on 32x32x3: [CONV3 -> BN -> RELU]*2 -> POOL2 at 64, 128, 256 channels, GAP, FC10. */
export function vggBnCifar(): ck.nn.Module {
  const layers: ck.nn.Module[] = [];
  let c = 3;
  for (const v of [64, 128, 256]) {
    layers.push(...convBnRelu(c, v), ...convBnRelu(v, v), new nn.MaxPool2d(2));
    c = v;
  }
  layers.push(new nn.AdaptiveAvgPool2d(1), new nn.Flatten(), new nn.Linear(c, 10));
  return new nn.Sequential(...layers);
}

/**
 * The CIFAR ResNet's basic block with the paper's option A shortcut (He et al. 2016, section
 * 4.2): where the size halves and the channels double, the identity is subsampled (every other
 * pixel) and padded with zero channels on both sides, so the shortcut has no parameters.
 */
export class CifarBlock extends nn.Module {
  readonly main: ck.nn.Module[];
  readonly relu = new nn.ReLU();
  readonly subsample: ck.nn.Module | null;
  readonly padChannels: number;
  constructor(cin: number, cout: number, stride: number) {
    super();
    const c1 = new nn.Conv2d(cin, cout, 3, { stride, padding: 1, bias: false, fit: 'floor' });
    const c2 = new nn.Conv2d(cout, cout, 3, { padding: 1, bias: false });
    this.main = [c1, new nn.BatchNorm2d(cout), new nn.ReLU(), c2, new nn.BatchNorm2d(cout)];
    // A 1x1 max pool of stride 2 is x[:, :, ::2, ::2].
    this.subsample = stride === 1 ? null : new nn.MaxPool2d(1, { stride, fit: 'floor' });
    this.padChannels = (cout - cin) / 2;
  }
  forward(x: ck.Tensor): ck.Tensor {
    const y = nn.runLayers(this.main, x);
    let s = this.subsample ? this.subsample.forward(x) : x;
    if (this.padChannels > 0) {
      const [n, , h, w] = s.shape as [number, number, number, number];
      const z = ck.zeros([n, this.padChannels, h, w]);
      s = ck.cat([z, s, z], 1);
    }
    return ck.F.add(y, s, { activation: 'relu' });
  }
}

/** CIFAR ResNet-20: CONV3-16 -> BN -> RELU, 3 stages of 3 blocks at 16, 32, 64 channels, GAP, FC10. 269,722 parameters. */
export function resnet20(): ck.nn.Module {
  const layers: ck.nn.Module[] = [...convBnRelu(3, 16)];
  let c = 16;
  for (const [cout, stride] of [[16, 1], [32, 2], [64, 2]] as const) {
    for (let i = 0; i < 3; i++) {
      layers.push(new CifarBlock(c, cout, i === 0 ? stride : 1));
      c = cout;
    }
  }
  layers.push(new nn.AdaptiveAvgPool2d(1), new nn.Flatten(), new nn.Linear(64, 10));
  return new nn.Sequential(...layers);
}
