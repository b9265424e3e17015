import type { DeviceMemory } from '../../tensor/device-array.js';

/**
 * The webgpu backend's memory as storages see it, defined before its code loads (register.ts
 * names it in the backend; the device code loads on first use and installs the implementation).
 * Every GPU array reports this one object, so storages recognise their device by identity.
 */
let impl: DeviceMemory | null = null;

/** Installed by gpu-array.ts when the device code loads. */
export function installWebgpuMemory(m: DeviceMemory): void {
  impl = m;
}

function loaded(): DeviceMemory {
  if (!impl) throw new Error("internal error: the webgpu backend's memory is used before its code loaded");
  return impl;
}

export const webgpuMemory: DeviceMemory = {
  name: 'webgpu',
  read: (a) => loaded().read(a),
  write: (host, reuse) => loaded().write(host, reuse),
  release: (a) => impl?.release(a),
};
