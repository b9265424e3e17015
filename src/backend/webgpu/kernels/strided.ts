import type { DeviceArray } from '../../../tensor/device-array.js';
import { asGpu, gpuEmpty, gpuMemory, gpuUpload } from '../gpu-array.js';
import { dispatch, flatIndex, grid } from '../program.js';

/*
 * A strided view (permute, transpose, slicing) copied into a new contiguous array on the GPU,
 * element by element as bits (float32 and int32 alike). The shape and strides travel in a
 * small storage buffer, so one shader serves every rank.
 */

const WG = 256;

const CODE = /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read> dims: array<i32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
struct Params { n: u32, ndim: u32, offset: i32 }
@group(0) @binding(3) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${flatIndex(WG)};
  if (i >= p.n) { return; }
  // Row-major position i -> index along each axis, last axis fastest.
  var rest = i;
  var pos = p.offset;
  for (var d = i32(p.ndim) - 1; d >= 0; d--) {
    let size = u32(dims[d]);
    pos += i32(rest % size) * dims[i32(p.ndim) + d];
    rest /= size;
  }
  dst[i] = src[pos];
}`;

/** The view's elements in row-major order, in a new GPU array. */
export function gatherStrided(src: DeviceArray, shape: readonly number[], strides: readonly number[], offset: number): DeviceArray {
  const n = shape.reduce((s, d) => s * d, 1);
  const a = asGpu(src);
  const out = gpuEmpty(n, a.dtype);
  if (n === 0) return out;
  const dims = gpuUpload(Int32Array.from([...shape, ...strides, 0]));
  dispatch({ code: CODE, inputs: [a, dims], outputs: [out], params: [['u32', n], ['u32', shape.length], ['i32', offset]], workgroups: grid(n, WG) });
  gpuMemory.release(dims);
  return out;
}
