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
 * CIFAR ResNet-20 (He et al. 2016, section 4.2), the zoo's: CONV3-16 -> BN -> RELU, 3 stages
 * of 3 basic blocks at 16, 32, 64 channels with the parameter-free option A shortcut, GAP,
 * FC10. 269,722 parameters (bench/peers/torch_models.py's resnet20 is its PyTorch twin).
 */
export function resnet20(): ck.nn.Module {
  return ck.models.resnet20();
}
