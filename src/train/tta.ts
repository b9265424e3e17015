import { ConvkitError, fmtShape } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/tape.js';
import * as F from '../functional.js';

/**
 * Horizontal-flip test-time augmentation: the model scores each image and its mirror image,
 * and the prediction is the mean of the two softmax distributions. Meant for data where a
 * mirrored picture shows the same class (clothes, objects, animals), not for digits or text.
 */

/** [N, C, H, W] images mirrored left-right (a new tensor, no gradient). */
export function flipWidth(x: Tensor): Tensor {
  if (x.ndim !== 4) throw new ConvkitError(`flipWidth: expected images [N, C, H, W], got ${fmtShape(x.shape)}`);
  const w = x.shape[3]!;
  const src = x.contiguous().values() as Float32Array;
  const out = new Float32Array(src.length);
  for (let row = 0; row < src.length; row += w) {
    for (let i = 0; i < w; i++) out[row + i] = src[row + w - 1 - i]!;
  }
  return new Tensor(out, x.shape);
}

/** Probabilities below this count as this when taking the log, so that a log-probability stays finite. */
const TINY = 1e-38;

/**
 * The log of the mean of softmax(model(x)) and softmax(model(flipped x)), [N, classes]: as
 * logits, its softmax is that mean, so cross-entropy and accuracy read it like any model output.
 */
export function ttaForward(model: { forward(x: Tensor): Tensor }, x: Tensor): Tensor {
  return noGrad(() => {
    const a = model.forward(x);
    if (a.ndim !== 2) throw new ConvkitError(`test-time augmentation needs class scores [N, classes]; the model gives ${fmtShape(a.shape)}`);
    const pa = F.softmax(a, 1).dataSync();
    const pb = F.softmax(model.forward(flipWidth(x)), 1).dataSync();
    const out = new Float32Array(pa.length);
    for (let i = 0; i < out.length; i++) out[i] = Math.log(Math.max((pa[i]! + pb[i]!) / 2, TINY));
    return new Tensor(out, a.shape);
  });
}
