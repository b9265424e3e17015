import { ConvkitError } from '../tensor/errors.js';

/**
 * How the analysis tools write numbers, volumes and sizes, in the CS231n notes' notation:
 * a volume is width x height x depth, `[224x224x64]`; an FC output is `[1x1x4096]`.
 * Byte sizes use 1024-based units with the notes' names (1 KB = 1024 bytes, 1 MB = 1024 KB).
 */

/** `3211264` -> `3,211,264`. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A per-item shape [C, H, W] (or [F]) as the notes write it: `[224x224x64]`, `[1x1x4096]`. */
export function formatVolume(shape: readonly number[]): string {
  if (shape.length === 3) return `[${shape[2]}x${shape[1]}x${shape[0]}]`;
  if (shape.length === 1) return `[1x1x${shape[0]}]`;
  return `[${shape.join('x')}]`;
}

/**
 * Reads a volume written as in the notes, `224x224x3` (width x height x depth, brackets
 * optional), into convkit's per-item shape [C, H, W].
 */
export function parseVolume(text: string): [number, number, number] {
  const m = /^\s*\[?\s*(\d+)\s*[xX×]\s*(\d+)\s*[xX×]\s*(\d+)\s*\]?\s*$/.exec(text);
  if (!m) throw new ConvkitError(`expected a volume as width x height x depth, e.g. 224x224x3, got '${text}'`);
  const [w, h, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (w < 1 || h < 1 || d < 1) throw new ConvkitError(`a volume needs positive sizes, got '${text}'`);
  return [d, h, w];
}

const UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB'] as const;

/** `60950432` -> `58.1 MB` (1024-based). */
export function formatBytes(bytes: number): string {
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${formatCount(v)} bytes`;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${UNITS[i]}`;
}

/** `4GB`, `512 MB`, `1.5G`, `100000` (bytes) -> bytes (1024-based). */
export function parseMemorySize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(text);
  if (!m) throw new ConvkitError(`expected a memory size such as 4GB, 512MB or 100KB, got '${text}'`);
  const power = { '': 0, k: 1, m: 2, g: 3, t: 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const bytes = Number(m[1]) * 1024 ** power;
  if (!(bytes > 0)) throw new ConvkitError(`a memory size must be positive, got '${text}'`);
  return Math.floor(bytes);
}

/** `30940528640` -> `30.9 G` (1000-based, for FLOPs and multiply-adds). */
export function formatMetric(n: number): string {
  const units = ['', 'K', 'M', 'G', 'T'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${formatCount(v)}` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`;
}
