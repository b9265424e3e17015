import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { decodeImageFile } from '../../src/data/image/decode.js';
import { readStateDictFile } from '../../src/cli/torchvision-weights.js';
import { ensureBuilt, jsonLines, removeDir, runCli, tempDir } from './cli-helpers.js';

/**
 * `convkit predict --model resnet18 --weights FILE image`: a seeded ResNet-18 saved under
 * torchvision's names as .safetensors; the command's top classes and probabilities are those of
 * the same model run here on imagenetPreprocess(picture), named by ImageNet's classes.
 */

let root: string;
let weights: string;
let picture: string;
let model: ck.nn.Module;

beforeAll(async () => {
  await ensureBuilt();
  root = tempDir();
  ck.manualSeed(19);
  model = ck.models.resnet18().eval();
  // BN statistics that are not the defaults, so that a dropped buffer would show.
  for (const [k, t] of model.stateDict()) if (k.endsWith('running_mean')) t.storage.data.set(ck.randn(t.shape, { seed: 3 }).dataSync().map((v) => v * 0.1));
  weights = join(root, 'resnet18.safetensors');
  await ck.io.saveSafetensors(model, weights);
  picture = join(root, 'photo.png');
  const pixels = Uint8Array.from({ length: 300 * 260 * 3 }, (_, i) => (i * 37 + ((i / 900) | 0) * 11) % 256);
  await sharp(Buffer.from(pixels), { raw: { width: 300, height: 260, channels: 3 } }).png().toFile(picture);
}, 120_000);

afterAll(() => removeDir(root));

describe('convkit predict with torchvision weights', { timeout: 120_000 }, () => {
  it('prints ImageNet class names with the probabilities of the preprocessed picture', async () => {
    const r = await runCli(['predict', '--model', 'resnet18', '--weights', weights, picture, '--json', '--top', '3']);
    expect(r.code, r.stderr).toBe(0);
    const [p] = jsonLines(r.stdout) as unknown as { top: { index: number; label: string; probability: number }[] }[];
    const x = ck.data.imagenetPreprocess(await decodeImageFile(picture));
    const probs = ck.noGrad(() => ck.F.softmax(model.forward(new ck.Tensor(x.data, [1, 3, 224, 224])), 1).dataSync());
    const order = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]!);
    expect(p!.top.map((t) => t.index)).toEqual(order.slice(0, 3));
    for (const t of p!.top) {
      expect(t.label).toBe(ck.data.IMAGENET_CLASSES[t.index]);
      expect(t.probability).toBeCloseTo(probs[t.index]!, 5);
    }
  });

  it('says which architectures it knows and what does not fit', async () => {
    const [unknown, wrong] = await Promise.all([
      runCli(['predict', '--model', 'resnet19', '--weights', weights, picture]),
      runCli(['predict', '--model', 'resnet34', '--weights', weights, picture]),
    ]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/--model resnet19: torchvision weights load into alexnet, vgg11, vgg11_bn/);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/resnet18.safetensors does not fit --model resnet34: .*missing keys: layer1.2.conv1.weight/);
  });

  it('reads .pth by its zip signature and .safetensors by its header, whatever the extension', async () => {
    const fixture = (f: string) => fileURLToPath(new URL(`../fixtures/torchvision/${f}`, import.meta.url));
    const pth = await readStateDictFile(fixture('bn-net.pth'));
    const st = await readStateDictFile(fixture('bn-net.safetensors'));
    expect([...pth.keys()]).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked', '5.weight', '5.bias']);
    expect([...st.keys()].sort()).toEqual([...pth.keys()].sort());
    expect(st.get('5.weight')!.dataSync()).toEqual(pth.get('5.weight')!.dataSync());
    await expect(readStateDictFile(fixture('bn-net.json'))).rejects.toThrow(/neither a PyTorch state dict/);
    await expect(readStateDictFile(join(root, 'nope.pth'))).rejects.toThrow(/cannot read it \(ENOENT\)/);
    await expect(readStateDictFile(join(root, 'nope.pth'))).rejects.toBeInstanceOf(ck.ConvkitError);
  });
});

