/// <reference types="@webgpu/types" />
import { gpu } from './device.js';
import { gpuCounters, type GpuArray } from './gpu-array.js';

/**
 * Running one WGSL compute shader. A kernel file writes its shader as text (entry point
 * `main`), binds its arrays and parameters by position and says how many workgroups to launch:
 *
 *   @group(0) @binding(0..i-1)  the inputs, `var<storage, read>`
 *   @group(0) @binding(i..j-1)  the outputs, `var<storage, read_write>` (also read by in-place kernels)
 *   @group(0) @binding(j)       `var<uniform> p: Params`, when there are params: a struct of
 *                               4-byte fields (u32, i32, f32) in the order given
 *
 * Pipelines are compiled once per shader text and cached; shapes go in the parameters, so one
 * text serves every shape (a kernel bakes a constant into the text only for tile sizes).
 * Each dispatch is submitted at once: the queue keeps the order of kernels, uploads and reads.
 */

/** One 4-byte field of the Params struct. */
export type Param = readonly ['u32' | 'i32' | 'f32', number];

export interface Dispatch {
  /** The WGSL source, entry point `main`; the cache key of its pipeline. */
  readonly code: string;
  readonly inputs: readonly GpuArray[];
  readonly outputs: readonly GpuArray[];
  readonly params?: readonly Param[];
  /** Workgroups along x, y, z (each at most 65,535; see grid()). */
  readonly workgroups: readonly [number, number?, number?];
}

/** A compiled shader with its bind group layout (asked for once, not on every dispatch). */
interface Compiled {
  device: GPUDevice;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}
const pipelines = new Map<string, Compiled>();
let uniformBuffer: { device: GPUDevice; buffer: GPUBuffer } | null = null;
const UNIFORM_BYTES = 256;

function pipelineFor(device: GPUDevice, code: string): Compiled {
  const hit = pipelines.get(code);
  if (hit && hit.device === device) return hit;
  const module = device.createShaderModule({ code });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const compiled = { device, pipeline, layout: pipeline.getBindGroupLayout(0) };
  pipelines.set(code, compiled);
  return compiled;
}

/** Writes the params as the uniform struct's bytes (16-byte multiple). */
function paramBytes(params: readonly Param[]): ArrayBuffer {
  const bytes = new ArrayBuffer(Math.max(16, Math.ceil((params.length * 4) / 16) * 16));
  const view = new DataView(bytes);
  params.forEach(([type, v], i) => {
    if (type === 'f32') view.setFloat32(i * 4, v, true);
    else if (type === 'i32') view.setInt32(i * 4, v, true);
    else view.setUint32(i * 4, v, true);
  });
  return bytes;
}

/** Launches the shader. A zero-size launch does nothing. */
export function dispatch(d: Dispatch): void {
  const [x, y = 1, z = 1] = d.workgroups;
  if (x === 0 || y === 0 || z === 0) return;
  const { device } = gpu();
  const { pipeline, layout } = pipelineFor(device, d.code);
  const entries: GPUBindGroupEntry[] = [];
  for (const a of d.inputs) entries.push({ binding: entries.length, resource: { buffer: a.buffer, size: bindSize(a) } });
  for (const a of d.outputs) entries.push({ binding: entries.length, resource: { buffer: a.buffer, size: bindSize(a) } });
  if (d.params && d.params.length > 0) {
    const bytes = paramBytes(d.params);
    // One uniform buffer for every dispatch: the queue runs this write after the previous
    // dispatch that read it and before this one.
    if (!uniformBuffer || uniformBuffer.device !== device) {
      uniformBuffer = { device, buffer: device.createBuffer({ size: UNIFORM_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST }) };
    }
    device.queue.writeBuffer(uniformBuffer.buffer, 0, bytes);
    entries.push({ binding: entries.length, resource: { buffer: uniformBuffer.buffer, size: bytes.byteLength } });
  }
  const bindGroup = device.createBindGroup({ layout, entries });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(x, y, z);
  pass.end();
  device.queue.submit([enc.finish()]);
  gpuCounters.dispatches++;
}

/** A binding covers the array's elements (at least 4 bytes: an empty array binds one unused word). */
function bindSize(a: GpuArray): number {
  return Math.max(4, a.length * 4);
}

/** Most workgroups along one axis (WebGPU's guaranteed limit). */
const MAX_GROUPS = 65535;

/**
 * Workgroups for `n` independent items, `perGroup` per workgroup, folded into x and y when x
 * alone would exceed the limit. The shader recovers the item's index with flatIndex below.
 */
export function grid(n: number, perGroup: number): [number, number] {
  const groups = Math.ceil(n / perGroup);
  if (groups <= MAX_GROUPS) return [groups, 1];
  const y = Math.ceil(groups / MAX_GROUPS);
  return [Math.ceil(groups / y), y];
}

/**
 * WGSL for the flat item index of a 1-d launch made with grid(): declare `main` with
 * `@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>`
 * and use `let i = ${flatIndex(WG)};` (skip items i >= n: the last workgroup overhangs).
 */
export function flatIndex(workgroupSize: number): string {
  return `gid.x + gid.y * nwg.x * ${workgroupSize}u`;
}
