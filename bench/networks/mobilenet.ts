/**
 * A MobileNet-style network (Howard et al. 2017) at 56x56x3: CONV3-32 -> BN -> RELU, then
 * depthwise-separable blocks (3x3 depthwise CONV -> BN -> RELU -> 1x1 CONV -> BN -> RELU),
 * 64 to 256 channels, two of them of stride 2 (56 -> 28 -> 14), global average pool, FC1000.
 * Its PyTorch twin: mobilenet_56 in bench/peers/torch_models.py.
 */
import * as ck from '../../src/index.js';
import { convBnRelu } from './cifar.js';

const { nn } = ck;

/** [output channels, stride] of each block; the same list as MOBILENET_BLOCKS in torch_models.py. */
export const MOBILENET_BLOCKS: readonly (readonly [number, number])[] = [[64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [256, 1], [256, 1], [256, 1]];

export function mobilenet56(): ck.nn.Module {
  const layers: ck.nn.Module[] = [...convBnRelu(3, 32)];
  let c = 32;
  for (const [cout, stride] of MOBILENET_BLOCKS) {
    layers.push(...convBnRelu(c, c, { stride, groups: c }), ...convBnRelu(c, cout, { kernel: 1 }));
    c = cout;
  }
  layers.push(new nn.AdaptiveAvgPool2d(1), new nn.Flatten(), new nn.Linear(c, 1000));
  return new nn.Sequential(...layers);
}
