import type { KernelSignatures, KernelTensor } from '../../kernels.js';
import { gpuEmpty, type GpuArray } from '../gpu-array.js';
import { arg, asF32, intArg } from '../kernel-args.js';
import { dispatch, flatIndex, grid } from '../program.js';
import { checkBindingSize } from './softmax.js';

/*
 * Per-sample losses over class scores (NLL, multi-margin) and their gradients, as the js
 * kernels (src/backend/js/losses.ts): x is [N, C, d1, ...] (or [C]), targets are int32 on the
 * GPU, pre-validated (in range or ignoreIndex). An absent class weight is a separate shader
 * text without that binding (layout 'auto' rejects a declared binding the shader does not use).
 */

const WG = 128;

function classLayout(shape: readonly number[]): { n: number; c: number; inner: number } {
  if (shape.length === 1) return { n: 1, c: shape[0]!, inner: 1 };
  let inner = 1;
  for (let d = 2; d < shape.length; d++) inner *= shape[d]!;
  return { n: shape[0]!, c: shape[1]!, inner };
}

/** The bindings: float inputs, the targets, the optional weight, the output, the params. */
function header(floats: readonly string[], weighted: boolean, params: string): string {
  const names = [...floats.map((f) => `${f}: array<f32>`), 'tgt: array<i32>', ...(weighted ? ['wt: array<f32>'] : [])];
  const lines = names.map((nm, i) => `@group(0) @binding(${i}) var<storage, read> ${nm};`);
  lines.push(`@group(0) @binding(${names.length}) var<storage, read_write> out: array<f32>;`);
  lines.push(`struct Params { ${params} }`);
  lines.push(`@group(0) @binding(${names.length + 1}) var<uniform> p: Params;`);
  return lines.join('\n');
}

const weightOf = (weighted: boolean, t: string): string => (weighted ? `wt[${t}]` : '1.0');
const MAIN = `@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>)`;

/** One thread per target position: loss = -weight[t] x[s, t, i], 0 where t == ignoreIndex. */
const nllCode = (weighted: boolean): string => /* wgsl */ `${header(['xs'], weighted, 'total: u32, c: u32, inner: u32, ignore: i32')}
${MAIN} {
  let k = ${flatIndex(WG)};
  if (k >= p.total) { return; }
  let t = tgt[k];
  if (t == p.ignore) { out[k] = 0.0; return; }
  let s = k / p.inner;
  let i = k - s * p.inner;
  out[k] = -${weightOf(weighted, 't')} * xs[(s * p.c + u32(t)) * p.inner + i];
}`;

/** One thread per element of dx: -weight[t] dy at the target class, 0 elsewhere. */
const nllGradCode = (weighted: boolean): string => /* wgsl */ `${header(['dys'], weighted, 'total: u32, c: u32, inner: u32, ignore: i32')}
${MAIN} {
  let e = ${flatIndex(WG)};
  if (e >= p.total) { return; }
  let row = e / p.inner;
  let i = e - row * p.inner;
  let s = row / p.c;
  let cls = row - s * p.c;
  let k = s * p.inner + i;
  let t = tgt[k];
  if (t == p.ignore || u32(t) != cls) { out[e] = 0.0; return; }
  out[e] = -${weightOf(weighted, 't')} * dys[k];
}`;

/**
 * Per sample: the terms max(0, margin - x[y] + x[i])^p over i != y, summed, times weight[y],
 * divided by C (PyTorch's multi_margin_loss). One thread per sample.
 */
const marginCode = (weighted: boolean): string => /* wgsl */ `${header(['xs'], weighted, 'n: u32, c: u32, power: u32, margin: f32')}
${MAIN} {
  let s = ${flatIndex(WG)};
  if (s >= p.n) { return; }
  let y = u32(tgt[s]);
  let row = s * p.c;
  let xy = xs[row + y];
  var sum = 0.0;
  for (var i = 0u; i < p.c; i++) {
    let z = p.margin - xy + xs[row + i];
    if (i != y && z > 0.0) { sum += select(z, z * z, p.power == 2u); }
  }
  out[s] = sum * ${weightOf(weighted, 'i32(y)')} / f32(p.c);
}`;

/**
 * Gradient of the multi-margin loss: one thread per element of dx. An active term i pushes
 * x[i] up by scale * (1 or 2z) and x[y] down by as much; x[y]'s thread sums the terms of its row.
 */
const marginGradCode = (weighted: boolean): string => /* wgsl */ `${header(['xs', 'dys'], weighted, 'total: u32, c: u32, power: u32, margin: f32')}
fn term(z: f32, scale: f32) -> f32 {
  if (z <= 0.0) { return 0.0; }
  return scale * select(1.0, 2.0 * z, p.power == 2u);
}
${MAIN} {
  let e = ${flatIndex(WG)};
  if (e >= p.total) { return; }
  let s = e / p.c;
  let i = e - s * p.c;
  let y = u32(tgt[s]);
  let row = s * p.c;
  let xy = xs[row + y];
  let scale = dys[s] * ${weightOf(weighted, 'i32(y)')} / f32(p.c);
  if (i != y) {
    out[e] = term(p.margin - xy + xs[e], scale);
    return;
  }
  var d = 0.0;
  for (var j = 0u; j < p.c; j++) {
    if (j != y) { d -= term(p.margin - xy + xs[row + j], scale); }
  }
  out[e] = d;
}`;

const codes = new Map<string, string>();
function cached(key: string, make: () => string): string {
  let c = codes.get(key);
  if (c === undefined) {
    c = make();
    codes.set(key, c);
  }
  return c;
}

function inputsWith(floats: readonly KernelTensor[], target: Int32Array, weight: KernelTensor | null): GpuArray[] {
  return [...floats.map(arg), intArg(target), ...(weight ? [arg(weight)] : [])];
}

export const nllLoss: KernelSignatures['NllLoss'] = (x, target, weight, ignoreIndex) => {
  const { n, c, inner } = classLayout(x.shape);
  const total = n * inner;
  checkBindingSize(total * c, 'NllLoss');
  const out = gpuEmpty(total);
  dispatch({
    code: cached(`nll/${weight !== null}`, () => nllCode(weight !== null)),
    inputs: inputsWith([x], target, weight),
    outputs: [out],
    params: [['u32', total], ['u32', c], ['u32', inner], ['i32', ignoreIndex]],
    workgroups: grid(total, WG),
  });
  return asF32(out);
};

export const nllLossGrad: KernelSignatures['NllLossGrad'] = (dy, target, weight, ignoreIndex, xShape) => {
  const { n, c, inner } = classLayout(xShape);
  const total = n * c * inner;
  checkBindingSize(total, 'NllLossGrad');
  const out = gpuEmpty(total);
  dispatch({
    code: cached(`nllGrad/${weight !== null}`, () => nllGradCode(weight !== null)),
    inputs: inputsWith([dy], target, weight),
    outputs: [out],
    params: [['u32', total], ['u32', c], ['u32', inner], ['i32', ignoreIndex]],
    workgroups: grid(total, WG),
  });
  return asF32(out);
};

export const multiMarginLoss: KernelSignatures['MultiMarginLoss'] = (x, target, p, margin, weight) => {
  const { n, c } = classLayout(x.shape);
  checkBindingSize(n * c, 'MultiMarginLoss');
  const out = gpuEmpty(n);
  dispatch({
    code: cached(`margin/${weight !== null}`, () => marginCode(weight !== null)),
    inputs: inputsWith([x], target, weight),
    outputs: [out],
    params: [['u32', n], ['u32', c], ['u32', p], ['f32', margin]],
    workgroups: grid(n, WG),
  });
  return asF32(out);
};

export const multiMarginLossGrad: KernelSignatures['MultiMarginLossGrad'] = (x, target, dy, p, margin, weight) => {
  const { n, c } = classLayout(x.shape);
  const total = n * c;
  checkBindingSize(total, 'MultiMarginLossGrad');
  const out = gpuEmpty(total);
  dispatch({
    code: cached(`marginGrad/${weight !== null}`, () => marginGradCode(weight !== null)),
    inputs: inputsWith([x, dy], target, weight),
    outputs: [out],
    params: [['u32', total], ['u32', c], ['u32', p], ['f32', margin]],
    workgroups: grid(total, WG),
  });
  return asF32(out);
};
