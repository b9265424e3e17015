/**
 * Where ck.io.load and ck.io.loadOnnx read from: a path or a file: URL (Node), an http URL
 * (fetched), a Blob/File (an <input type=file>), bytes. And what a browser sees, where file
 * paths mean nothing: without process.getBuiltinModule a string is a URL, and saving to a path
 * is a ConvkitError that says what to use instead.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { makeModel, rawFloats } from './onnx-builder.js';

const dir = mkdtempSync(join(tmpdir(), 'ck-source-'));
const model = new ck.nn.Sequential(new ck.nn.Conv2d(1, 2, 3), new ck.nn.BatchNorm2d(2), new ck.nn.ReLU(), new ck.nn.Flatten(), new ck.nn.Linear(8, 3));
const x = ck.randn([2, 1, 4, 4], { seed: 4 });
const expected = () => ck.noGrad(() => model.eval().forward(x).dataSync());
const bytes = new Uint8Array(ck.io.serializeModel(model.eval(), { classNames: ['a', 'b', 'c'] }));
// An ONNX file whose weights sit in a second file beside it.
const onnx = new Uint8Array(makeModel({
  inputs: [{ name: 'x', dims: [2, 3] }],
  outputs: ['y'],
  initializers: [{ name: 'w', dims: [2, 3], external: { location: 'weights.bin', offset: 0, length: 24 } }],
  nodes: [{ op: 'Mul', inputs: ['x', 'w'], outputs: ['y'] }],
}));
const weights = rawFloats([1, 2, 3, 4, 5, 6]);
const y = [[1, 2, 3], [4, 5, 6]];

let server: Server;
let base = '';
beforeAll(async () => {
  writeFileSync(join(dir, 'm.convkit'), bytes);
  writeFileSync(join(dir, 'm.onnx'), onnx);
  writeFileSync(join(dir, 'weights.bin'), weights);
  const files: Record<string, Uint8Array> = { '/m.convkit': bytes, '/m.onnx': onnx };
  server = createServer((req, res) => {
    const body = files[req.url ?? ''];
    if (body) res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(body);
    else res.writeHead(404, 'Not Found').end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const predict = (m: ck.nn.Module) => ck.noGrad(() => m.forward(x).dataSync());

describe('ck.io.load sources', () => {
  it('a path, a file: URL, an http URL, a File, a Blob, a Uint8Array, an ArrayBuffer: the same model', async () => {
    const sources: ck.io.ModelSource[] = [
      join(dir, 'm.convkit'),
      pathToFileURL(join(dir, 'm.convkit')),
      new URL('m.convkit', base),
      new File([bytes], 'm.convkit'),
      new Blob([bytes]),
      bytes,
      bytes.slice().buffer,
    ];
    for (const source of sources) {
      const { model: back, metadata } = await ck.io.loadWithMetadata(source);
      expect(metadata.classNames).toEqual(['a', 'b', 'c']);
      expect(predict(back)).toEqual(expected());
    }
  });

  it('errors name the source: a missing file, an HTTP status, a wrong type, an empty string', async () => {
    await expect(ck.io.load(join(dir, 'nope.convkit'))).rejects.toThrow(/nope\.convkit: no such file/);
    await expect(ck.io.load(new URL('nope.convkit', base))).rejects.toThrow(/cannot fetch http:.*nope\.convkit \(HTTP 404 Not Found\)/);
    await expect(ck.io.load(new File([bytes.subarray(0, 20)], 'cut.convkit'))).rejects.toThrow(/cut\.convkit/);
    await expect(ck.io.load(42 as unknown as string)).rejects.toThrow(/expected a file path, a URL, a Blob\/File, a Uint8Array or an ArrayBuffer, got number/);
    await expect(ck.io.load('')).rejects.toThrow(/empty string/);
    for (const load of [() => ck.io.load(new URL('nope.convkit', base)), () => ck.io.load(42 as unknown as string)]) {
      await expect(load()).rejects.toBeInstanceOf(ck.ConvkitError);
    }
  });
});

describe('ck.io.loadOnnx sources', () => {
  it('a path or a file: URL reads external data beside the model', async () => {
    for (const source of [join(dir, 'm.onnx'), pathToFileURL(join(dir, 'm.onnx'))]) {
      expect((await ck.io.loadOnnx(source)).forward(ck.ones([2, 3])).toArray()).toEqual(y);
    }
  });

  it('a URL or a File takes external data as options, and says which file is missing without them', async () => {
    for (const source of [new URL('m.onnx', base), new File([onnx], 'm.onnx')]) {
      const m = await ck.io.loadOnnx(source, { externalData: { 'weights.bin': weights } });
      expect(m.forward(ck.ones([2, 3])).toArray()).toEqual(y);
      await expect(ck.io.loadOnnx(source)).rejects.toThrow(/m\.onnx: initializer 'w': its data is in the external file 'weights\.bin'.*externalData/);
    }
  });
});

describe('where there is no file system (a browser)', () => {
  const proc = process as { getBuiltinModule?: unknown };
  const withoutBuiltins = async (fn: () => Promise<void>): Promise<void> => {
    const saved = proc.getBuiltinModule;
    proc.getBuiltinModule = undefined;
    try {
      await fn();
    } finally {
      proc.getBuiltinModule = saved;
    }
  };

  it('a string is a URL, resolved against the page or worker location', async () => {
    await withoutBuiltins(async () => {
      expect(predict(await ck.io.load(`${base}m.convkit`))).toEqual(expected());
      await expect(ck.io.load('m.convkit')).rejects.toThrow(/'m.convkit' is neither a file path \(there is no file system here\) nor a URL/);
      const g = globalThis as { location?: unknown };
      g.location = { href: `${base}app/index.html` };
      try {
        await expect(ck.io.load('m.convkit')).rejects.toThrow(/cannot fetch http:.*\/app\/m\.convkit \(HTTP 404/);
        expect(predict(await ck.io.load('../m.convkit'))).toEqual(expected());
        const onnxModel = await ck.io.loadOnnx('/m.onnx', { externalData: { 'weights.bin': weights } });
        expect(onnxModel.forward(ck.ones([2, 3])).toArray()).toEqual(y);
      } finally {
        delete g.location;
      }
    });
  });

  it('saving to a path says what to use instead', async () => {
    await withoutBuiltins(async () => {
      await expect(model.save(join(dir, 'x.convkit'))).rejects.toThrow(/writing .*x\.convkit needs Node\.js 20\.16 or newer/);
      await expect(ck.io.saveOnnx(model, join(dir, 'x.onnx'), { inputShape: [1, 4, 4] })).rejects.toBeInstanceOf(ck.ConvkitError);
      await expect(ck.io.loadOnnx(pathToFileURL(join(dir, 'm.onnx')))).rejects.toThrow(/needs Node\.js/);
    });
  });
});
