/**
 * `ck.io.exportPyTorch` and `convkit export --format pytorch` without Python: the text of
 * model.py (a snapshot for LeNet-5, the torchvision-style classes for the zoo's graph models,
 * the layer-by-layer fallback when a model is not what its constructor builds), train.py's
 * settings from a model file and a checkpoint, and the errors. When /usr/bin/python3 (or
 * python3) exists, every generated file is also parsed by Python's own parser. Whether the
 * code computes what convkit computes is `npm run test:torch` (scripts/torch/check-export.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as ck from '../../src/index.js';
import { runPyTorchExport } from '../../src/cli/commands/export-pytorch.js';
import { registerExport } from '../../src/cli/commands/export.js';
import { serializeCheckpoint } from '../../src/train/checkpoint.js';
import { CHECKPOINT_METADATA_SETTING } from '../../src/cli/model-loader.js';
import { loadModelArg } from '../../src/cli/model-loader.js';
import { GraphModule } from '../../src/models/graph-module.js';
import { modelSource } from '../../src/io/pytorch/model-code.js';
import type { GraphOps } from '../../src/nn/graph-trace.js';

const dir = mkdtempSync(join(tmpdir(), 'convkit-pytorch-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = (files: Map<string, string | Uint8Array>, name: string): string => files.get(name) as string;

/** A Python that can parse the files, or null (npm test must not need one). */
const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import ast'], { encoding: 'utf8' }).status === 0) ?? null;

function expectPythonParses(source: string, name: string): void {
  if (!python) return;
  const file = join(dir, `${name.replace(/\W/g, '_')}.py`);
  writeFileSync(file, source);
  const r = spawnSync(python, ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])', file], { encoding: 'utf8' });
  expect(r.status, `${name}: ${r.stderr}`).toBe(0);
}

/** The tensor names in a safetensors file's header. */
function safetensorKeys(bytes: Uint8Array): string[] {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  return Object.keys(header).filter((k) => k !== '__metadata__').sort();
}

describe('exportPyTorch', () => {
  it('writes LeNet-5 as an nn.Sequential with one layer per line (snapshot)', async () => {
    ck.manualSeed(0);
    const { files, weights } = ck.io.exportPyTorch(ck.models.lenet5(), { inputShape: [1, 28, 28], title: 'LeNet-5' });
    await expect(text(files, 'model.py')).toMatchFileSnapshot('./__snapshots__/pytorch-export-lenet5.py');
    expect(safetensorKeys(files.get('weights.safetensors') as Uint8Array)).toEqual([...weights.keys()].sort());
    expectPythonParses(text(files, 'model.py'), 'lenet5-model');
    expectPythonParses(text(files, 'train.py'), 'lenet5-train');
  });

  it('writes the zoo graph models with torchvision-style classes', () => {
    // Narrow ResNets: the same classes as resnet18/50 (whose sizes add only build time here).
    const cases: [ck.nn.Module, RegExp, string[]][] = [
      [
        new ck.models.ResNet({ block: 'basic', layers: [2, 2, 2, 2], widths: [8, 8, 16, 16], numClasses: 10 }),
        /return ResNet\(BasicBlock, \[2, 2, 2, 2\], widths=\(8, 8, 16, 16\), num_classes=10\)/,
        ['class BasicBlock', 'class ResNet', 'def projection'],
      ],
      [
        new ck.models.ResNet({ block: 'bottleneck', layers: [3, 1, 2], widths: [4, 8, 8], numClasses: 7, inChannels: 1 }),
        /return ResNet\(Bottleneck, \[3, 1, 2\], widths=\(4, 8, 8\), num_classes=7, in_channels=1\)/,
        ['class Bottleneck'],
      ],
    ];
    for (const [model, root, classes] of cases) {
      const source = modelSource(model, { inputShape: [3, 64, 64], title: model.describe() }).source;
      expect(source).toMatch(root);
      for (const c of classes) expect(source).toContain(c);
      expect(source).not.toMatch(/written out layer by layer/);
      expectPythonParses(source, model.describe());
    }
    // GoogLeNet's parts (the whole network, 6.6M weights built twice, is left to npm run test:torch).
    const five = new ck.models.Inception(16, { ch1x1: 2, ch3x3red: 2, ch3x3: 2, ch5x5red: 2, ch5x5: 2, poolProj: 2 }, { fiveByFive: true });
    const inception = modelSource(five, { title: 'five' }).source;
    expect(inception).toMatch(/return Inception\(16, 2, 2, 2, 2, 2, 2, kernel_size=5\)/);
    expect(inception).toContain('class BasicConv2d(nn.Module):');
    expectPythonParses(inception, 'inception');
  });

  it('keeps a changed head in the template and spells out a model its constructor would not build', () => {
    const narrow = (): ck.models.ResNet => new ck.models.ResNet({ block: 'basic', layers: [1, 2], widths: [8, 16], numClasses: 4 });
    const tuned = narrow();
    (tuned as unknown as { fc: ck.nn.Module }).fc = new ck.nn.Linear(16, 3);
    expect(modelSource(tuned, { title: 'tuned' }).source).toMatch(/ResNet\(BasicBlock, \[1, 2\], widths=\(8, 16\), num_classes=3\)/);

    const odd = narrow();
    const block = odd.stages[1]!.at(1) as ck.models.BasicBlock;
    block.conv2 = new ck.nn.Conv2d(16, 16, 3, { padding: 1, bias: true });
    const source = modelSource(odd, { inputShape: [3, 32, 32], title: 'odd' }).source;
    // The odd block is a class of its own, and so is the ResNet holding it; the other blocks keep the template.
    expect(source).toMatch(/class BasicBlock2\(nn\.Module\):[\s\S]*self\.conv2 = nn\.Conv2d\(16, 16, kernel_size=3, padding=1\)/);
    expect(source).toMatch(/class ResNet2\(nn\.Module\):/);
    expect(source).toMatch(/self\.layer2 = nn\.Sequential\(\n\s+BasicBlock\(8, 16, stride=2\),\s+# layer2\.0 -> \[N, 16, 4, 4\]\n\s+BasicBlock2\(\),/);
    expect(source).toMatch(/return ResNet2\(\)/);
    expectPythonParses(source, 'odd-resnet');
  });

  it('writes the CIFAR ResNets with their option A shortcut as slicing and F.pad', () => {
    const source = modelSource(ck.models.resnet20({ inChannels: 1, numClasses: 7 }), { inputShape: [1, 28, 28], title: 'resnet20' }).source;
    expect(source).toMatch(/return CifarResNet\(blocks=3, num_classes=7, in_channels=1\)/);
    expect(source).toContain('class CifarBasicBlock(nn.Module):');
    expect(source).toContain('shortcut = F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, *self.pad))');
    expect(source).not.toMatch(/written out layer by layer|class ZeroPadShortcut/);
    expectPythonParses(source, 'resnet20');
    const narrow = modelSource(new ck.models.CifarResNet({ blocks: 2, widths: [4, 8, 13] }), { title: 'narrow' }).source;
    expect(narrow).toMatch(/return CifarResNet\(blocks=2, widths=\(4, 8, 13\), num_classes=10\)/);

    // A block its constructor would not build: written out, its shortcut the helper class.
    const block = new ck.models.CifarBasicBlock(4, 9, { stride: 2 });
    block.relu = new ck.nn.ReLU();
    const generic = modelSource(block, { inputShape: [4, 7, 7], title: 'generic block' }).source;
    expect(generic).toContain('class ZeroPadShortcut(nn.Module):');
    expect(generic).toContain('self.shortcut = ZeroPadShortcut(4, 9, stride=2)');
    expect(generic).toMatch(/x = self\.shortcut\(x\)\n\s+out = out \+ x\n\s+out = self\.relu\(out\)/);
    expectPythonParses(generic, 'generic-cifar-block');
    // vggSmallBn is a layer list: an nn.Sequential with BatchNorm1d and the dropout of VGG_SMALL_BN.
    const vgg = modelSource(ck.models.vggSmallBn(), { inputShape: [1, 28, 28], title: 'vggSmallBn' }).source;
    expect(vgg).toMatch(/nn\.Linear\(3136, 256\),\s+# 15 -> \[N, 256\]\n\s+nn\.BatchNorm1d\(256\),\s+# 16 -> \[N, 256\]\n\s+nn\.ReLU\(inplace=True\),\s+# 17 -> \[N, 256\]\n\s+nn\.Dropout\(p=0\.3\),/);
  });

  it('reads a custom graph module\'s forward from its traceGraph', () => {
    class Twin extends GraphModule {
      left = new ck.nn.Conv2d(4, 4, 3, { padding: 1 });
      right = new ck.nn.Sequential(new ck.nn.Conv2d(4, 2, 1), new ck.nn.ReLU());
      traceGraph<V>(x: V, ops: GraphOps<V>): V {
        return ops.cat([ops.add(ops.call(this.left, x), x), ops.call(this.right, x)]);
      }
    }
    class Heads extends GraphModule {
      heads = [new ck.nn.Conv2d(6, 1, 1), new ck.nn.Conv2d(6, 2, 1)];
      traceGraph<V>(x: V, ops: GraphOps<V>): V {
        return ops.cat(this.heads.map((h) => ops.call(h, x)));
      }
    }
    // A list of modules is an nn.ModuleList (PyTorch names its elements heads.0, heads.1 as convkit does).
    const heads = modelSource(new Heads(), { inputShape: [6, 3, 3], title: 'heads' }).source;
    expect(heads).toMatch(/self\.heads = nn\.ModuleList\(\[\n\s+nn\.Conv2d\(6, 1, kernel_size=1\),\s+# heads\.0 -> \[N, 1, 3, 3\]\n\s+nn\.Conv2d\(6, 2, kernel_size=1\),\s+# heads\.1 -> \[N, 2, 3, 3\]\n\s+\]\)/);
    expect(heads).toMatch(/heads0 = self\.heads\[0\]\(x\)\n\s+heads1 = self\.heads\[1\]\(x\)\n\s+out = torch\.cat\(\[heads0, heads1\], dim=1\)/);
    expectPythonParses(heads, 'heads');
    const source = text(ck.io.exportPyTorch(new ck.nn.Sequential(new Twin(), new ck.nn.Flatten()), { inputShape: [4, 5, 5] }).files, 'model.py');
    expect(source).toContain('class Twin(nn.Module):');
    expect(source).toMatch(/out = self\.left\(x\)\n\s+out = out \+ x\n\s+right = self\.right\(x\)\n\s+out = torch\.cat\(\[out, right\], dim=1\)\n\s+return out/);
    expect(source).toMatch(/Twin\(\),\s+# 0 -> \[N, 6, 5, 5\]/);
    expectPythonParses(source, 'twin');
  });

  it('uses helper classes where PyTorch has no layer for a setting', () => {
    const model = new ck.nn.Sequential(
      new ck.nn.Conv2d(3, 4, 4, { padding: 'same' }),
      new ck.nn.Conv2d(4, 4, 3, { stride: 2, fit: 'ceil' }),
      new ck.nn.ConvTranspose2d(4, 4, 3, { padding: [1, 0, 0, 1] }),
      new ck.nn.CircularPad2d(1),
      new ck.nn.LocallyConnected2d(4, 2, 3, { inputSize: [8, 9] }),
      new ck.nn.InstanceNorm2d(2, { trackRunningStats: true }),
    );
    const source = text(ck.io.exportPyTorch(model, { inputShape: [3, 13, 13] }).files, 'model.py');
    expect(source).toContain('PadConv2d(3, 4, kernel_size=4, pads=(1, 2, 1, 2))');
    expect(source).toContain('PadConv2d(4, 4, kernel_size=3, stride=2, ceil_mode=True)');
    expect(source).toContain('CropConvTranspose2d(4, 4, kernel_size=3, crop=(0, 1, 1, 0))');
    expect(source).toContain('LocallyConnected2d(4, 2, kernel_size=3, input_size=(8, 9))');
    expect(source).toContain('TORCH_ONLY_KEYS = {"5.num_batches_tracked": 0}');
    for (const c of ['class PadConv2d', 'class CropConvTranspose2d', 'class CircularPad2d', 'class LocallyConnected2d', 'def _ceil_extra']) expect(source).toContain(c);
    expectPythonParses(source, 'helpers');
  });

  it('refuses what has no PyTorch form, naming the module', () => {
    class Custom extends ck.nn.Module {
      conv = new ck.nn.Conv2d(1, 1, 1);
      forward(x: ck.Tensor): ck.Tensor {
        return this.conv.forward(x);
      }
    }
    expect(() => ck.io.exportPyTorch(new ck.nn.Sequential(new ck.nn.ReLU(), new Custom()))).toThrow(/PyTorch export: 1 \(Custom\) has no PyTorch form/);
    expect(() => ck.io.exportPyTorch(ck.nn.optimizeForInference(ck.models.lenet5()))).toThrow(/not what optimizeForInference made of it/);
    expect(() => ck.io.exportPyTorch(ck.models.lenet5(), { inputShape: [28, 28, 0] })).toThrow(/inputShape must be one item's shape/);
    expect(() => ck.io.exportPyTorch(ck.models.lenet5(), { opset: 13 } as never)).toThrow(/unknown option opset/);
  });
});

describe('convkit export --format pytorch', () => {
  const settingsOf = (out: string): string => readFileSync(join(out, 'train.py'), 'utf8').split('SETTINGS = {')[1]!.split('\n}')[0]!;

  it('takes train.py\'s settings from a model file and copies the digits in', async () => {
    const file = join(dir, 'lenet.convkit');
    const metadata = {
      inputShape: [1, 28, 28],
      classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      trainedOn: 'digits',
      normalization: { kind: 'standardize' as const, per: 'channel' as const, mean: [0.1307], std: [0.3081] },
      training: { epochs: 7, batchSize: 64, optimizer: 'momentum', lr: 0.05, weightDecay: 0.0005, schedule: 'step', seed: 3 },
    };
    await ck.io.save(ck.models.lenet5(), file, metadata);
    const out = join(dir, 'lenet-out');
    const loaded = await loadModelArg(file);
    await runPyTorchExport(file, out, { ...loaded, inputShape: [1, 28, 28], source: file }, {});
    for (const f of ['model.py', 'train.py', 'weights.safetensors', 'data/train-images-idx3-ubyte.gz', 'data/t10k-labels-idx1-ubyte.gz']) expect(existsSync(join(out, f)), f).toBe(true);
    const s = settingsOf(out);
    expect(s).toMatch(/"data": "data",/);
    expect(s).toMatch(/"epochs": 7,/);
    expect(s).toMatch(/"batch_size": 64,/);
    expect(s).toMatch(/"optimizer": "momentum",/);
    expect(s).toMatch(/"lr": 0\.05,/);
    expect(s).toMatch(/"weight_decay": 0\.0005,/);
    expect(s).toMatch(/"schedule": "step",/);
    expect(s).toMatch(/"seed": 3,/);
    expect(s).toMatch(/"normalization": \{"kind": "standardize", "per": "channel", "mean": \[0\.1307\], "std": \[0\.3081\]\},/);
    expect(readFileSync(join(out, 'model.py'), 'utf8')).toContain('CLASS_NAMES = ["0", "1"');
    expect(readFileSync(join(out, 'train.py'), 'utf8')).toContain('are the training lenet.convkit records');
    expectPythonParses(readFileSync(join(out, 'train.py'), 'utf8'), 'lenet-train-settings');
    // The weights carry convkit's metadata for the way back.
    const { metadata: stored, tensors } = await ck.io.loadSafetensors(join(out, 'weights.safetensors'));
    expect(JSON.parse(stored['convkit']!)).toMatchObject({ trainedOn: 'digits', inputShape: [1, 28, 28] });
    expect([...tensors.keys()].sort()).toEqual([...ck.models.lenet5().stateDict().keys()].sort());
  });

  it('takes a checkpoint\'s recorded training settings', async () => {
    const model = ck.models.lenet5();
    const file = join(dir, 'checkpoint.convkit');
    const settings = {
      data: join(dir, 'no-such-images'), epochs: 12, batchSize: 128, optimizer: 'adamw', lr: 0.002, momentum: null, weightDecay: 0.01,
      schedule: 'cosine', valFraction: 0.2, seed: 9, [CHECKPOINT_METADATA_SETTING]: JSON.stringify({ inputShape: [1, 28, 28] }),
    };
    writeFileSync(file, serializeCheckpoint({ epoch: 4, architecture: model.getConfig(), model: model.stateDict(), optimizer: null, scheduler: null, generators: [], history: [], extra: { settings } }));
    const out = join(dir, 'ckpt-out');
    const loaded = await loadModelArg(file);
    await runPyTorchExport(file, out, { ...loaded, inputShape: [1, 28, 28], source: file }, {});
    const s = settingsOf(out);
    expect(s).toMatch(/"data": None,  # the model was trained on .*no-such-images: give --data/);
    expect(s).toMatch(/"epochs": 12,[\s\S]*"batch_size": 128,[\s\S]*"optimizer": "adamw",[\s\S]*"lr": 0\.002,[\s\S]*"val_fraction": 0\.2,[\s\S]*"seed": 9,/);
    expect(existsSync(join(out, 'data'))).toBe(false);
    // --data wins over the record.
    await runPyTorchExport(file, join(dir, 'ckpt-out2'), { ...loaded, inputShape: [1, 28, 28], source: file }, { data: dir });
    expect(settingsOf(join(dir, 'ckpt-out2'))).toContain(`"data": ${JSON.stringify(dir)},`);
  });

  /** `convkit export ...` run in this process: its exit code and what it printed. */
  async function exportCommand(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const program = new Command().exitOverride();
    registerExport(program);
    const out: string[] = [];
    const err: string[] = [];
    const so = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    const se = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    const before = process.exitCode;
    process.exitCode = undefined;
    try {
      await program.parseAsync(['node', 'convkit', 'export', ...argv]);
      return { code: Number(process.exitCode ?? 0), stdout: out.join(''), stderr: err.join('') };
    } finally {
      so.mockRestore();
      se.mockRestore();
      process.exitCode = before;
    }
  }

  it('is --format pytorch of convkit export, with clear errors', async () => {
    const out = join(dir, 'cli-tiny');
    const r = await exportCommand('tinyVgg', out, '--format', 'pytorch', '--input', '32x32x3', '--num-classes', '4', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'pytorch', files: ['model.py', 'train.py', 'weights.safetensors'], inputShape: [3, 32, 32], data: null });
    expect(readFileSync(join(out, 'model.py'), 'utf8')).toContain('INPUT_SHAPE = (3, 32, 32)');
    expect((await exportCommand('lenet5', join(dir, 'x'), '--format', 'tf')).stderr).toMatch(/unknown --format 'tf'; choose onnx or pytorch/);
    expect((await exportCommand('lenet5', join(dir, 'x'), '--format', 'pytorch', '--opset', '13')).stderr).toMatch(/--opset applies to --format onnx only/);
    expect((await exportCommand('lenet5', join(dir, 'x.onnx'), '--data', 'digits')).stderr).toMatch(/--data applies to --format pytorch only/);
    expect((await exportCommand('lenet5', join(dir, 'y.onnx'), '--format', 'pytorch')).stderr).toMatch(/looks like an ONNX file name/);
  });

  it('refuses a file as the output folder', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    await expect(runPyTorchExport('lenet5', file, { model: ck.models.lenet5(), source: 'zoo model lenet5', metadata: {} }, {})).rejects.toThrow(/writes a folder/);
  });
});
