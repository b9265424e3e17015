import type { KernelSignatures } from '../../kernels.js';
import { ConvkitError } from '../../../tensor/errors.js';
import { adamBiasCorrections, adamConstants, sgdConstants } from '../../js/optimizers.js';
import { asGpu } from '../gpu-array.js';
import { dispatch, flatIndex, grid } from '../program.js';

/*
 * SGD and Adam / AdamW updates IN PLACE (the one exception to fresh outputs): w and the state
 * buffers are bound as read_write outputs, g as the input; one dispatch per parameter. The
 * formulas and their float32 constants are the js kernels' (src/backend/js/optimizers.ts,
 * sgdConstants / adamConstants / adamBiasCorrections); the GPU may contract a product and a sum
 * into one fused multiply-add, so results agree to float32 rounding, not always bit for bit.
 * Each variant (momentum or not, amsgrad or not) is its own shader text, so that every
 * declared binding is used.
 */

const WG = 256;

/** w -= lr * (g + wd * w): no momentum buffer. */
const SGD_PLAIN = /* wgsl */ `
@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
struct Params { n: u32, lr: f32, wd: f32 }
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${flatIndex(WG)};
  if (i >= p.n) { return; }
  let wi = w[i];
  w[i] = wi - p.lr * (g[i] + p.wd * wi);
}`;

/**
 * d = g + wd * w; b = d on the buffer's first update, else momentum * b + (1 - dampening) * d;
 * w -= lr * (nesterov ? d + momentum * b : b).
 */
const sgdMomentum = (nesterov: boolean): string => /* wgsl */ `
@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
struct Params { n: u32, lr: f32, wd: f32, momentum: f32, keep: f32, first: u32 }
@group(0) @binding(3) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${flatIndex(WG)};
  if (i >= p.n) { return; }
  let wi = w[i];
  let d = g[i] + p.wd * wi;
  var b = d;
  if (p.first == 0u) { b = p.momentum * m[i] + p.keep * d; }
  m[i] = b;
  w[i] = wi - p.lr * (${nesterov ? 'd + p.momentum * b' : 'b'});
}`;

export const sgdStep: KernelSignatures['SGDStep'] = (slots, h) => {
  const { lr, momentum, keep, wd } = sgdConstants(h);
  for (const slot of slots) {
    const w = asGpu(slot.w);
    const n = w.length;
    if (slot.m === null) {
      dispatch({ code: SGD_PLAIN, inputs: [asGpu(slot.g)], outputs: [w], params: [['u32', n], ['f32', lr], ['f32', wd]], workgroups: grid(n, WG) });
      continue;
    }
    dispatch({
      code: sgdMomentum(h.nesterov),
      inputs: [asGpu(slot.g)],
      outputs: [w, asGpu(slot.m)],
      params: [['u32', n], ['f32', lr], ['f32', wd], ['f32', momentum], ['f32', keep], ['u32', slot.first ? 1 : 0]],
      workgroups: grid(n, WG),
    });
  }
};

/**
 * w *= decay; d = g + wd * w; m = beta1 m + (1 - beta1) d; v = beta2 v + (1 - beta2) d d
 * (amsgrad: vMax = max(vMax, v), used for v); w -= ss * m / (sqrt(v) / bc2 + eps) with
 * ss = lr / (1 - beta1^t), bc2 = sqrt(1 - beta2^t).
 */
const adamCode = (amsgrad: boolean): string => /* wgsl */ `
@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
${amsgrad ? '@group(0) @binding(4) var<storage, read_write> vMax: array<f32>;' : ''}
struct Params { n: u32, beta1: f32, c1: f32, beta2: f32, c2: f32, eps: f32, wd: f32, decay: f32, ss: f32, bc2: f32 }
@group(0) @binding(${amsgrad ? 5 : 4}) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${flatIndex(WG)};
  if (i >= p.n) { return; }
  let wi = w[i] * p.decay;
  let d = g[i] + p.wd * wi;
  let mi = p.beta1 * m[i] + p.c1 * d;
  var vi = p.beta2 * v[i] + (p.c2 * d) * d;
  m[i] = mi;
  v[i] = vi;
  ${
    amsgrad
      ? `// A NaN v does not replace the largest so far (the js kernel's v > max).
  let prev = vMax[i];
  if (!(vi > prev)) { vi = prev; }
  vMax[i] = vi;`
      : ''
  }
  w[i] = wi - (p.ss * mi) / (sqrt(vi) / p.bc2 + p.eps);
}`;

export const adamStep: KernelSignatures['AdamStep'] = (slots, h) => {
  const { beta1, c1, beta2, c2, eps, wd, decay } = adamConstants(h);
  for (const slot of slots) {
    if (slot.m === null || slot.v === null || (h.amsgrad && slot.vMax === null)) {
      throw new ConvkitError('AdamStep kernel: a slot lacks its state buffers (m and v, and vMax with amsgrad)');
    }
    const [ss, bc2] = adamBiasCorrections(h, slot.step);
    const w = asGpu(slot.w);
    const n = w.length;
    const state = [w, asGpu(slot.m), asGpu(slot.v)];
    if (h.amsgrad) state.push(asGpu(slot.vMax));
    dispatch({
      code: adamCode(h.amsgrad),
      inputs: [asGpu(slot.g)],
      outputs: state,
      params: [['u32', n], ['f32', beta1], ['f32', c1], ['f32', beta2], ['f32', c2], ['f32', eps], ['f32', wd], ['f32', decay], ['f32', ss], ['f32', bc2]],
      workgroups: grid(n, WG),
    });
  }
};
