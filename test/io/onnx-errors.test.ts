/**
 * Bad input to the ONNX importer: every case is a ConvkitError raised before anything runs
 * or is allocated, never a crash, a hang or a RangeError from a huge allocation.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';
import { makeModel, rawFloats } from './onnx-builder.js';

const convModel = () =>
  makeModel({
    inputs: [{ name: 'x', dims: [1, 2, 5, 5] }],
    outputs: ['y'],
    initializers: [
      { name: 'w', dims: [3, 2, 3, 3], raw: rawFloats(Array.from({ length: 54 }, (_, i) => i / 54)) },
      { name: 'b', dims: [3], floats: [0.1, 0.2, 0.3] },
    ],
    nodes: [
      { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['c'], outputs: ['y'] },
    ],
  });

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'convkit-onnx-'));
  dirs.push(d);
  return d;
}

describe('malformed files', () => {
  it('a well-formed model loads and runs (the baseline for the cases below)', () => {
    const y = ck.io.loadOnnxBytes(convModel()).forward(ck.ones([1, 2, 5, 5]));
    expect(y.shape).toEqual([1, 3, 5, 5]);
  });

  it('a truncated file is a ConvkitError at every cut, never another error', () => {
    const bytes = convModel();
    expectConvkitError(() => ck.io.loadOnnxBytes(bytes.subarray(0, bytes.length >> 1)), /truncated|not a valid ONNX/);
    for (let n = 0; n < bytes.length; n++) {
      try {
        ck.io.loadOnnxBytes(bytes.subarray(0, n));
      } catch (e) {
        if (!(e instanceof ck.ConvkitError)) throw new Error(`cut at ${n} of ${bytes.length} bytes: ${String(e)}`);
        continue;
      }
      throw new Error(`cut at ${n} of ${bytes.length} bytes loaded without complaint`);
    }
  });

  it('random bytes and an empty file are ConvkitErrors', () => {
    const g = new ck.Generator(3);
    for (let k = 0; k < 50; k++) {
      const bytes = Uint8Array.from({ length: 16 + g.int(2000) }, () => g.int(256));
      expectConvkitError(() => ck.io.loadOnnxBytes(bytes));
    }
    expectConvkitError(() => ck.io.loadOnnxBytes(new Uint8Array(0)), /empty/);
    expectConvkitError(() => ck.io.readOnnxTensor(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f])), /not a valid ONNX protobuf/);
  });

  it('a missing file names the path', async () => {
    await expect(ck.io.loadOnnx(join(tempDir(), 'nope.onnx'))).rejects.toThrow(/no such file/);
  });
});

describe('unsupported content is listed in one error before anything runs', () => {
  it('lists every unsupported node by name and type', () => {
    const bytes = makeModel({
      inputs: [{ name: 'x', dims: [1, 2, 4, 4, 4] }],
      outputs: ['y'],
      nodes: [
        { name: 'mystery', op: 'FancyOp', inputs: ['x'], outputs: ['a'] },
        { name: 'vendor', op: 'Relu', domain: 'com.example', inputs: ['a'], outputs: ['b'] },
        { name: 'pool3d', op: 'MaxPool', inputs: ['b'], outputs: ['c'], attrs: { kernel_shape: [2, 2, 2] } },
        { name: 'wrap', op: 'Pad', inputs: ['c', 'p'], outputs: ['d'], attrs: { mode: 'wrap' } },
        { name: 'ok', op: 'Relu', inputs: ['d'], outputs: ['y'] },
      ],
      initializers: [{ name: 'p', dims: [10], dataType: 7, int64s: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }],
      opset: 19,
    });
    const err = expectConvkitError(
      () => ck.io.loadOnnxBytes(bytes),
      /4 of 5 nodes are not supported/,
      /node 'mystery' \(FancyOp\): operator not supported/,
      /node 'vendor' \(Relu\) in domain 'com.example'/,
      /node 'pool3d' \(MaxPool\): 3-d windows are not supported/,
      /node 'wrap' \(Pad\): mode 'wrap' is not supported/,
    );
    expect(err.message).not.toMatch(/node 'ok'/);
  });

  it('refuses opsets outside 6..21 and unsupported data types, together', () => {
    const bytes = makeModel({
      inputs: [{ name: 'x', dims: [2], elemType: 8 }],
      outputs: ['y'],
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
      initializers: [{ name: 'z', dims: [2], dataType: 14, floats: [1, 2, 3, 4] }],
      opset: 22,
    });
    expectConvkitError(
      () => ck.io.loadOnnxBytes(bytes),
      /opset 22 of the default domain is not supported \(convkit supports opsets 6 to 21\)/,
      /initializer 'z': data type COMPLEX64/,
      /graph input 'x': data type STRING/,
    );
  });

  it('names inputs that nothing produces', () => {
    const bytes = makeModel({ inputs: [{ name: 'x' }], outputs: ['y'], nodes: [{ name: 'add', op: 'Add', inputs: ['x', 'ghost'], outputs: ['y'] }] });
    expectConvkitError(() => ck.io.loadOnnxBytes(bytes), /node 'add' \(Add\): input 'ghost' is produced by no node/);
  });
});

describe('absurd sizes are refused before allocation', () => {
  it('an initializer declaring 1e12 elements', () => {
    const bytes = makeModel({
      inputs: [{ name: 'x' }],
      outputs: ['y'],
      initializers: [{ name: 'huge', dims: [1000000, 1000000], raw: new Uint8Array(8) }],
      nodes: [{ op: 'Add', inputs: ['x', 'huge'], outputs: ['y'] }],
    });
    expectConvkitError(() => ck.io.loadOnnxBytes(bytes), /initializer 'huge'/, /1\.000e\+12 elements/, /refusing to allocate/);
  });

  it('a dimension beyond 2^53 and a negative dimension', () => {
    for (const dims of [[2 ** 62], [-3, 4]]) {
      const bytes = makeModel({
        inputs: [{ name: 'x' }],
        outputs: ['y'],
        initializers: [{ name: 'bad', dims, floats: [1] }],
        nodes: [{ op: 'Add', inputs: ['x', 'bad'], outputs: ['y'] }],
      });
      expectConvkitError(() => ck.io.loadOnnxBytes(bytes), /initializer 'bad'/);
    }
  });

  it('raw data shorter than the declared shape', () => {
    const bytes = makeModel({
      inputs: [{ name: 'x' }],
      outputs: ['y'],
      initializers: [{ name: 'short', dims: [4, 4], raw: rawFloats([1, 2, 3]) }],
      nodes: [{ op: 'Add', inputs: ['x', 'short'], outputs: ['y'] }],
    });
    expectConvkitError(() => ck.io.loadOnnxBytes(bytes), /initializer 'short'/, /holds 12 bytes but shape \[4, 4\] of FLOAT needs 64/);
  });

  it('ConstantOfShape asking for 1e12 elements (folded at load) and at run time', () => {
    const folded = makeModel({
      inputs: [{ name: 'x' }],
      outputs: ['y'],
      initializers: [{ name: 's', dims: [2], dataType: 7, int64s: [1000000, 1000000] }],
      nodes: [
        { name: 'big', op: 'ConstantOfShape', inputs: ['s'], outputs: ['c'] },
        { op: 'Add', inputs: ['x', 'c'], outputs: ['y'] },
      ],
    });
    expectConvkitError(() => ck.io.loadOnnxBytes(folded), /node 'big' \(ConstantOfShape\)/, /refusing to allocate/);
    const runtime = makeModel({
      inputs: [{ name: 's', elemType: 7 }],
      outputs: ['y'],
      nodes: [{ name: 'big', op: 'ConstantOfShape', inputs: ['s'], outputs: ['y'] }],
    });
    const model = ck.io.loadOnnxBytes(runtime);
    expectConvkitError(() => model.forward(ck.tensor([1e6, 1e6], [2], { dtype: 'int32' })), /node 'big' \(ConstantOfShape\)/, /refusing to allocate/);
  });

  it('the limit is an option', () => {
    expectConvkitError(() => ck.io.loadOnnxBytes(convModel(), { maxTensorElements: 10 }), /initializer 'w'/, /limit of 10/);
  });
});

describe('external data', () => {
  const spec = (location: string, length = 24) =>
    makeModel({
      inputs: [{ name: 'x', dims: [2, 3] }],
      outputs: ['y'],
      initializers: [{ name: 'w', dims: [2, 3], external: { location, offset: 8, length } }],
      nodes: [{ op: 'Mul', inputs: ['x', 'w'], outputs: ['y'] }],
    });
  const data = () => {
    const bytes = new Uint8Array(8 + 24);
    bytes.set(rawFloats([1, 2, 3, 4, 5, 6]), 8);
    return bytes;
  };

  it('reads a tensor from a file beside the model', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'model.onnx'), spec('weights.bin'));
    writeFileSync(join(dir, 'weights.bin'), data());
    const model = await ck.io.loadOnnx(join(dir, 'model.onnx'));
    expect(model.forward(ck.ones([2, 3])).toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  it('takes the files as bytes in the browser', () => {
    const model = ck.io.loadOnnxBytes(spec('weights.bin'), { externalData: { 'weights.bin': data() } });
    expect(model.forward(ck.ones([2, 3])).toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expectConvkitError(() => ck.io.loadOnnxBytes(spec('weights.bin')), /external file 'weights.bin'/);
  });

  it('refuses a missing or short file, a length that disagrees with the shape, and paths outside the folder', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'short.onnx'), spec('short.bin'));
    writeFileSync(join(dir, 'short.bin'), data().subarray(0, 20));
    await expect(ck.io.loadOnnx(join(dir, 'short.onnx'))).rejects.toThrow(/has 20 bytes; the model reads 24 at offset 8/);
    writeFileSync(join(dir, 'missing.onnx'), spec('missing.bin'));
    await expect(ck.io.loadOnnx(join(dir, 'missing.onnx'))).rejects.toThrow(/'missing.bin' cannot be opened/);
    writeFileSync(join(dir, 'escape.onnx'), spec('../escape.bin'));
    await expect(ck.io.loadOnnx(join(dir, 'escape.onnx'))).rejects.toThrow(/must be a path inside the model's folder/);
    writeFileSync(join(dir, 'len.onnx'), spec('weights.bin', 1e12));
    await expect(ck.io.loadOnnx(join(dir, 'len.onnx'))).rejects.toThrow(/length 1000000000000 bytes but the declared shape needs 24/);
  });
});

describe('run-time errors name the node', () => {
  it('a wrong input shape is refused with the declared shape', () => {
    const model = ck.io.loadOnnxBytes(convModel());
    expectConvkitError(() => model.forward(ck.ones([1, 3, 5, 5])), /input 'x' must have shape \[1, 2, 5, 5\]/);
    expectConvkitError(() => model.forward(), /takes 1 input/);
  });
});
