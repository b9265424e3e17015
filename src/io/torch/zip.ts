import { ConvkitError } from '../../tensor/errors.js';
import { crc32 } from '../crc32.js';

/**
 * A read-only zip archive reader for PyTorch's files (torch.save writes a zip of stored,
 * 64-byte-aligned entries with zip64 end records; other tools may deflate them). It trusts
 * nothing: every offset and size is checked against the file, sizes come from the central
 * directory (torch's local headers defer them to data descriptors), inflated output may not
 * exceed the size the directory declares, and every entry read is checked against its CRC-32.
 */

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  /** Offset of the local header in the file. */
  headerOffset: number;
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();

  constructor(
    readonly bytes: Uint8Array,
    readonly name: string,
  ) {
    readCentralDirectory(this);
  }

  /** The entry's uncompressed bytes (a view of the file for stored entries), CRC-checked. */
  async read(entry: ZipEntry): Promise<Uint8Array> {
    const b = this.bytes;
    const fail = (msg: string): never => {
      throw new ConvkitError(`${this.name}: zip entry '${entry.name}': ${msg}`);
    };
    const h = entry.headerOffset;
    if (h + 30 > b.length || u32(b, h) !== 0x04034b50) fail(`no local header at offset ${h}`);
    const start = h + 30 + u16(b, h + 26) + u16(b, h + 28);
    const end = start + entry.compressedSize;
    if (end > b.length) fail(`its ${entry.compressedSize} bytes at offset ${start} run past the end of the ${b.length}-byte file (truncated?)`);
    const raw = b.subarray(start, end);
    let data: Uint8Array;
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.size) fail(`stored, yet its sizes differ (${entry.compressedSize} vs ${entry.size})`);
      data = raw;
    } else {
      data = await inflateRaw(raw, entry.size, (msg) => fail(msg));
    }
    if (crc32(data) !== entry.crc) fail('CRC-32 mismatch: the file is corrupt');
    return data;
  }
}

function u16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** A 64-bit field as a number, refused beyond 2^53 (no file that large can be in memory). */
function u64(b: Uint8Array, at: number, fail: (msg: string) => never): number {
  const v = u32(b, at) + u32(b, at + 4) * 2 ** 32;
  if (!Number.isSafeInteger(v)) fail(`a zip64 size or offset (${v}) is out of range`);
  return v;
}

function readCentralDirectory(zip: ZipArchive): void {
  const b = zip.bytes;
  const fail = (msg: string): never => {
    throw new ConvkitError(`${zip.name}: not a readable zip archive: ${msg}`);
  };
  // End of central directory: 22 bytes plus a comment of up to 65535 bytes, at the end.
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 0xffff); i--) {
    if (u32(b, i) === 0x06054b50 && i + 22 + u16(b, i + 20) === b.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail('no end-of-central-directory record (truncated, or not a zip file)');
  if (u16(b, eocd + 4) !== 0 || u16(b, eocd + 6) !== 0) fail('multi-disk archives are not supported');
  let count = u16(b, eocd + 10);
  let dirSize = u32(b, eocd + 12);
  let dirOffset = u32(b, eocd + 16);
  if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff || (eocd >= 20 && u32(b, eocd - 20) === 0x07064b50)) {
    // zip64: a locator just before the record points at the zip64 end record.
    const loc = eocd - 20;
    if (loc < 0 || u32(b, loc) !== 0x07064b50) fail('zip64 sizes without a zip64 locator');
    const rec = u64(b, loc + 8, fail);
    if (rec + 56 > loc || u32(b, rec) !== 0x06064b50) fail(`no zip64 end record at offset ${rec}`);
    count = u64(b, rec + 32, fail);
    dirSize = u64(b, rec + 40, fail);
    dirOffset = u64(b, rec + 48, fail);
  }
  if (dirOffset + dirSize > b.length) fail(`the central directory (offset ${dirOffset}, ${dirSize} bytes) runs past the end of the ${b.length}-byte file`);
  // Each directory record is at least 46 bytes: the count cannot claim more than fit.
  if (count * 46 > dirSize) fail(`${count} entries cannot fit in a ${dirSize}-byte central directory`);
  const names = new TextDecoder('utf-8', { fatal: true });
  let at = dirOffset;
  const end = dirOffset + dirSize;
  for (let i = 0; i < count; i++) {
    if (at + 46 > end || u32(b, at) !== 0x02014b50) fail(`central directory record ${i} is damaged`);
    const flags = u16(b, at + 8);
    const method = u16(b, at + 10);
    const crc = u32(b, at + 16);
    let compressedSize = u32(b, at + 20);
    let size = u32(b, at + 24);
    const nameLen = u16(b, at + 28);
    const extraLen = u16(b, at + 30);
    const commentLen = u16(b, at + 32);
    let headerOffset = u32(b, at + 42);
    const next = at + 46 + nameLen + extraLen + commentLen;
    if (next > end) fail(`central directory record ${i} runs past the directory`);
    let name: string;
    try {
      name = names.decode(b.subarray(at + 46, at + 46 + nameLen));
    } catch {
      return fail(`entry ${i}'s name is not valid UTF-8`);
    }
    // zip64 extended information: the 64-bit values of the fields that read 0xffffffff, in order.
    for (let e = at + 46 + nameLen; e + 4 <= at + 46 + nameLen + extraLen; ) {
      const id = u16(b, e);
      const len = u16(b, e + 2);
      if (e + 4 + len > at + 46 + nameLen + extraLen) fail(`entry '${name}' has a damaged extra field`);
      if (id === 0x0001) {
        let f = e + 4;
        const take = (): number => {
          if (f + 8 > e + 4 + len) fail(`entry '${name}' has a short zip64 extra field`);
          const v = u64(b, f, fail);
          f += 8;
          return v;
        };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (headerOffset === 0xffffffff) headerOffset = take();
      }
      e += 4 + len;
    }
    if (flags & 1) fail(`entry '${name}' is encrypted`);
    if (method !== 0 && method !== 8) fail(`entry '${name}' uses compression method ${method}; only stored (0) and deflate (8) are supported`);
    if (headerOffset + 30 > dirOffset) fail(`entry '${name}' has its local header at offset ${headerOffset}, past the file data`);
    if (zip.entries.has(name)) fail(`entry '${name}' appears twice`);
    zip.entries.set(name, { name, method, compressedSize, size, crc, headerOffset });
    at = next;
  }
}

/**
 * Raw deflate through the platform's DecompressionStream (Node 20.12+, every current browser),
 * stopping as soon as the output passes the size the archive declared.
 */
async function inflateRaw(raw: Uint8Array, size: number, fail: (msg: string) => never): Promise<Uint8Array> {
  if (typeof DecompressionStream !== 'function') fail('is deflated, and this runtime has no DecompressionStream');
  // Deflate expands at most 1032:1, so a larger declared size is a lie (and no reason to allocate).
  if (size > raw.length * 1032 + 64) fail(`declares ${size} bytes, more than its ${raw.length} deflated bytes can hold`);
  const out = new Uint8Array(size);
  let got = 0;
  const reader = new Blob([raw as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (got + value.length > size) {
        await reader.cancel().catch(() => undefined);
        return fail(`inflates to more than the ${size} bytes the archive declares`);
      }
      out.set(value, got);
      got += value.length;
    }
  } catch (e) {
    if (e instanceof ConvkitError) throw e;
    return fail(`corrupt deflate data (${e instanceof Error ? e.message : String(e)})`);
  }
  if (got !== size) fail(`inflates to ${got} bytes, the archive declares ${size}`);
  return out;
}
