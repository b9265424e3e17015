import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';

/** A tiny registered layer, so this test does not depend on the built-in layers. */
class Affine extends ck.nn.Module {
  weight: ck.nn.Parameter;
  constructor(n: number) {
    super();
    this.configArgs = [n];
    this.weight = new ck.nn.Parameter(ck.randn([n], { seed: n }));
  }
  forward(x: ck.Tensor): ck.Tensor {
    return ck.F.mul(x, this.weight);
  }
}
ck.nn.register('Affine', Affine);

const model = () => new ck.nn.Sequential(new Affine(3), new Affine(3));

describe('model files', () => {
  it('round-trips architecture, weights and metadata', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ck-'));
    const m = model();
    await m.save(join(dir, 'm.ckpt'), { classNames: ['a', 'b', 'c'] });
    const { model: back, metadata } = await ck.io.loadWithMetadata(join(dir, 'm.ckpt'));
    expect(metadata.classNames).toEqual(['a', 'b', 'c']);
    const x = ck.tensor([1, 2, 3]);
    expect(back.forward(x).dataSync()).toEqual(m.forward(x).dataSync());
    expect([...back.stateDict().keys()]).toEqual(['0.weight', '1.weight']);
  });

  it('rejects corrupt, truncated and foreign files with clear errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ck-'));
    const file = join(dir, 'm.ckpt');
    await model().save(file);
    const good = readFileSync(file);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 10]! ^= 0xff;
    writeFileSync(join(dir, 'flip'), flipped);
    writeFileSync(join(dir, 'trunc'), good.subarray(0, good.length - 7));
    writeFileSync(join(dir, 'text'), 'hello world, not a model at all');
    await expect(ck.io.load(join(dir, 'flip'))).rejects.toThrow(/checksum mismatch/);
    await expect(ck.io.load(join(dir, 'trunc'))).rejects.toThrow(/corrupt or truncated/);
    await expect(ck.io.load(join(dir, 'text'))).rejects.toThrow(/not a convkit model file/);
    await expect(ck.io.load(join(dir, 'missing'))).rejects.toThrow(/no such file/);
    await expect(ck.io.load(join(dir, 'trunc'))).rejects.toBeInstanceOf(ck.ConvkitError);
  });

  it('names an unregistered layer type', () => {
    const bytes = ck.io.serializeModel(model());
    // Re-register under another name to simulate loading in a program that lacks the class.
    const text = new TextDecoder('latin1').decode(bytes).replace(/"Affine"/g, '"Affinx"');
    const tampered = new Uint8Array([...text].map((c) => c.charCodeAt(0)));
    // The checksum catches tampering first; build a clean file with the unknown type instead.
    expectConvkitError(() => ck.io.deserializeModel(tampered), 'checksum');
    const { json, arrays } = ck.io.readContainer(bytes, 'model');
    const j = JSON.parse(JSON.stringify(json).replace(/"Affine"/g, '"Affinx"'));
    const renamed = ck.io.writeContainer({ kind: 'model', json: j, arrays });
    expectConvkitError(() => ck.io.deserializeModel(renamed), "unknown layer type 'Affinx'", 'ck.nn.register');
  });

  it('never half-loads: a wrong-shaped tensor leaves no model', () => {
    const bytes = ck.io.serializeModel(model());
    const { json, arrays } = ck.io.readContainer(bytes, 'model');
    const j = JSON.parse(JSON.stringify(json));
    j.architecture.args[1].args = [4];
    const bad = ck.io.writeContainer({ kind: 'model', json: j, arrays });
    expectConvkitError(() => ck.io.deserializeModel(bad), '1.weight', '[4]', '[3]');
  });
});
