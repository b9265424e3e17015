import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { writeBytesAtomic, readBytes } from '../../src/io/files.js';
import { readContainer, writeContainer, containerKind } from '../../src/io/container.js';
import { crc32 } from '../../src/io/crc32.js';
import { deserializeCheckpoint, serializeCheckpoint, type TrainingState } from '../../src/train/checkpoint.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'convkit-ckpt-'));
  dirs.push(d);
  return d;
}

function state(): TrainingState {
  return {
    epoch: 2,
    architecture: { type: 'Linear', args: [3, 2] },
    model: new Map([
      ['weight', ck.tensor([1, 2, 3, 4, 5, 6], [2, 3])],
      ['bias', ck.tensor([0.5, -0.5], [2])],
    ]),
    optimizer: { type: 'SGD', state: [{ momentumBuffer: Float32Array.from([1, 2, 3]) }, null] },
    scheduler: { lastEpoch: 2 },
    generators: [
      [1, 2, 3, 4, NaN],
      [5, 6, 7, 8, 0.25],
    ],
    history: [{ epoch: 1, trainLoss: 0.5 }],
    extra: { best: Infinity, sinceBest: 0 },
  };
}

describe('checkpoint files', () => {
  it('round-trip through a file read back as a Node Buffer (views into a shared pool)', async () => {
    const file = join(tmp(), 'checkpoint.convkit');
    await writeBytesAtomic(file, serializeCheckpoint(state()), { role: 'checkpoint' });
    // readFileSync returns a Buffer whose slices share memory: the reader must copy.
    const back = deserializeCheckpoint(readFileSync(file), file);
    expect(back.epoch).toBe(2);
    expect(back.model.get('weight')!.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(Array.from((back.optimizer as { state: { momentumBuffer: Float32Array }[] }).state[0]!.momentumBuffer)).toEqual([1, 2, 3]);
    expect(back.generators[0]![4]).toBeNaN();
    expect(back.generators[1]).toEqual([5, 6, 7, 8, 0.25]);
    expect(back.extra['best']).toBe(Infinity);
    expect(containerKind(await readBytes(file))).toBe('checkpoint');
  });

  it('writes atomically and removes temporary files that a crashed writer left behind', async () => {
    const dir = tmp();
    const file = join(dir, 'checkpoint.convkit');
    // A dead process's leftover (no process has pid 2^22 + 1 on Linux) and a live one's (our parent's).
    const dead = join(dir, `.checkpoint.convkit.${2 ** 22 + 1}.123.tmp`);
    const live = join(dir, `.checkpoint.convkit.${process.ppid}.456.tmp`);
    writeFileSync(dead, 'half');
    writeFileSync(live, 'in progress');
    await writeBytesAtomic(file, Uint8Array.from([1, 2, 3]));
    expect(Array.from(readFileSync(file))).toEqual([1, 2, 3]);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['.checkpoint.convkit.' + process.ppid + '.456.tmp', 'checkpoint.convkit']);
  });

  it('gives clear errors for unwritable and unreadable paths', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'file'), 'x');
    await expect(writeBytesAtomic(join(dir, 'file', 'sub', 'c.convkit'), Uint8Array.of(1))).rejects.toThrow(/a part of the path is a file, not a folder|cannot create the folder/);
    await expect(readBytes(join(dir, 'missing'))).rejects.toThrow(/missing: no such file/);
    await expect(readBytes(dir)).rejects.toThrow(/is a directory, not a file/);
  });

  it('refuses a container whose index points outside the file or is malformed, even with a valid checksum', () => {
    const good = writeContainer({ kind: 'checkpoint', json: {}, arrays: new Map([['a', Float32Array.of(1, 2)]]) });
    const view = new DataView(good.buffer);
    const length = view.getUint32(12, true);
    const blob = good.subarray((16 + length + 7) & ~7, good.length - 4);
    /** The same container with its header edited, laid out and checksummed as a writer would. */
    const forge = (mutate: (header: { arrays: Record<string, unknown>[] }) => void) => {
      const header = JSON.parse(new TextDecoder().decode(good.subarray(16, 16 + length))) as { arrays: Record<string, unknown>[] };
      mutate(header);
      const text = new TextEncoder().encode(JSON.stringify(header));
      const blobStart = (16 + text.length + 7) & ~7;
      const out = new Uint8Array(blobStart + blob.length + 4);
      out.set(good.subarray(0, 12));
      new DataView(out.buffer).setUint32(12, text.length, true);
      out.set(text, 16);
      out.set(blob, blobStart);
      new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
      return out;
    };
    expect(readContainer(forge(() => undefined), 'checkpoint', 'f').arrays.get('a')).toEqual(Float32Array.of(1, 2));
    expect(() => readContainer(forge((h) => (h.arrays[0]!['offset'] = -8)), 'checkpoint', 'f')).toThrow(/f: is corrupt: a bad array entry/);
    expect(() => readContainer(forge((h) => (h.arrays[0]!['length'] = 1000)), 'checkpoint', 'f')).toThrow(/lies outside the file/);
    expect(() => readContainer(forge((h) => (h.arrays[0]!['dtype'] = 'float64')), 'checkpoint', 'f')).toThrow(/a bad array entry/);
    expect(() => readContainer(good, 'model', 'f')).toThrow(/f: is a convkit checkpoint file, not a model file/);
  });
});
