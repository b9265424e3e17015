import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deserializeCheckpoint } from '../../src/train/checkpoint.js';
import { loadWithMetadata } from '../../src/io/save-load.js';
import { ensureBuilt, expectCleanError, quickTrainArgs, removeDir, runCli, tempDir, writeTinyDigits } from './cli-helpers.js';

/**
 * Every bad input the issue lists, through the real command: the exit code is non-zero and
 * stderr holds exactly one line starting `convkit: `, with no stack trace.
 */

let root: string;
let data: string;
let modelFile: string;

beforeAll(async () => {
  await ensureBuilt();
  root = tempDir();
  data = writeTinyDigits(join(root, 'data'), 256, 64);
  const r = await runCli(quickTrainArgs(data, join(root, 'good'), ['--epochs', '1']));
  expect(r.code, r.stderr).toBe(0);
  modelFile = join(root, 'good', 'model.convkit');
}, 240_000);

afterAll(() => removeDir(root));

// Independent short runs: concurrently, to keep the file quick.
describe.concurrent('convkit --help', { timeout: 120_000 }, () => {
  it.each([[[]], [['train']], [['eval']], [['info']], [['predict']]])('convkit %j --help prints usage and exits 0', async (cmd) => {
    const r = await runCli([...cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: convkit${cmd.length ? ` ${cmd[0]}` : ''} `));
    expect(r.stderr).toBe('');
  });
});

describe.concurrent('bad command lines', { timeout: 120_000 }, () => {
  it.each([
    [['train', '--epochs', 'abc'], /--epochs must be a positive integer, got 'abc'/],
    [['train', '--epochs', '0'], /--epochs must be a positive integer, got '0'/],
    [['train', '--epochs', '1.5'], /--epochs must be a positive integer/],
    [['train', '--batch-size', '-3'], /--batch-size must be a positive integer/],
    [['train', '--lr', 'fast'], /--lr must be a non-negative number, got 'fast'/],
    [['train', '--seed', 'x'], /--seed must be an integer/],
    [['train', '--val-fraction', '1'], /--val-fraction must be a number from 0 up to/],
    [['train', '--optimizer', 'lbfgs'], /unknown optimizer 'lbfgs'; choose one of sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw/],
    [['train', '--schedule', 'warm'], /unknown schedule 'warm'/],
    [['train', '--frobnicate'], /unknown option '--frobnicate' \(see convkit train --help\)/],
    [['evaluate'], /unknown command 'evaluate'/],
    [['eval'], /missing required argument 'model'/],
    [['predict', 'm.convkit'], /give a model and at least one image: convkit predict <model> <images...>/],
    [['predict', '--weights', 'w.pth', 'cat.jpg'], /--weights needs --model/],
  ])('convkit %j', async (argv, pattern) => {
    expectCleanError(await runCli(argv), pattern);
  });
});

describe.concurrent('bad inputs', { timeout: 180_000 }, () => {
  it('an unknown model name lists the zoo', async () => {
    const r = await runCli(['train', '--model', 'lenet6', '--data', data]);
    expectCleanError(r, /unknown model 'lenet6': not a zoo name \(lenet5, .*alexnet.*\)/);
  });

  it('an output folder that cannot be written fails before training', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    expectCleanError(await runCli(['train', '--data', data, '--out', join(file, 'out')]), /--out .*a-file\/out: cannot write there \(ENOTDIR\)/);
  });

  it('a missing dataset folder', async () => {
    const [missing, unknown] = await Promise.all([runCli(['train', '--data', join(root, 'no-such-dir')]), runCli(['train', '--data', 'imagenet'])]);
    expectCleanError(missing, /dataset folder .*no-such-dir does not exist/);
    expectCleanError(unknown, /unknown dataset 'imagenet'/);
  });

  it('fashion-mnist missing: says how to install it and about --data-dir', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty, { recursive: true });
    const r = await runCli(['train', '--data', 'fashion-mnist', '--data-dir', empty]);
    expectCleanError(r, /Fashion-MNIST train files not found/);
    expect(r.stderr).toContain('apt-get install dataset-fashion-mnist');
    expect(r.stderr).toContain('--data-dir');
  });

  it('a corrupt IDX file', async () => {
    const bad = join(root, 'bad-idx');
    mkdirSync(bad, { recursive: true });
    for (const f of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte', 'train-labels-idx1-ubyte']) copyFileSync(join(data, f), join(bad, f));
    writeFileSync(join(bad, 'train-images-idx3-ubyte'), Uint8Array.from([0, 0, 8, 3, 0, 0, 1, 0, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3]));
    expectCleanError(await runCli(['train', '--data', bad]), /train-images-idx3-ubyte/);
  });

  it('corrupt, truncated, foreign and missing model files for eval and info', async () => {
    const good = readFileSync(modelFile);
    const truncated = join(root, 'truncated.convkit');
    writeFileSync(truncated, good.subarray(0, good.length >> 1));
    const flipped = join(root, 'flipped.convkit');
    const copy = Uint8Array.from(good);
    copy[copy.length >> 1] ^= 0xff;
    writeFileSync(flipped, copy);
    const foreign = join(root, 'notes.txt');
    writeFileSync(foreign, 'not a model at all, just some text that is long enough');
    const cases: [string, RegExp][] = [
      [truncated, /truncated\.convkit: is corrupt or truncated/],
      [flipped, /flipped\.convkit: is corrupt or truncated \(checksum mismatch/],
      [foreign, /notes\.txt is neither a convkit model or checkpoint \(it does not start with the convkit signature\) nor an ONNX file/],
      [join(root, 'missing.convkit'), /missing\.convkit: no such file/],
    ];
    const runs = cases.flatMap(([file, pattern]) => [
      runCli(['eval', file, '--data', data]).then((r) => expectCleanError(r, pattern)),
      runCli(['info', file]).then((r) => expectCleanError(r, pattern)),
    ]);
    await Promise.all(runs);
    // A checkpoint is a model for eval (its weights after the last epoch; info describes the training state).
    const ckpt = join(root, 'good', 'checkpoint.convkit');
    const fromCheckpoint = await runCli(['eval', ckpt, '--data', data, '--json']);
    const fromModel = await runCli(['eval', modelFile, '--data', data, '--json']);
    expect(fromCheckpoint.code, fromCheckpoint.stderr).toBe(0);
    expect(JSON.parse(fromCheckpoint.stdout).accuracy).toBe(JSON.parse(fromModel.stdout).accuracy);
    const info = await runCli(['info', ckpt]);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/training checkpoint after epoch 1/);
  });

  it('eval and info work on the good model', async () => {
    const e = await runCli(['eval', modelFile, '--json']);
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout)).toMatchObject({ count: 64, data, split: 'test' });
    const i = await runCli(['info', modelFile, '--json']);
    expect(i.code, i.stderr).toBe(0);
    expect(JSON.parse(i.stdout)).toMatchObject({ kind: 'model', metadata: { inputShape: [1, 28, 28], trainedOn: data } });
  });

  it('an unreadable image for predict names the file', async () => {
    const text = join(root, 'photo.png');
    writeFileSync(text, 'this is not a PNG');
    const [notImage, missing] = await Promise.all([runCli(['predict', modelFile, text]), runCli(['predict', modelFile, join(root, 'nope.jpg')])]);
    expectCleanError(notImage, /photo\.png: not an image/);
    expectCleanError(missing, /nope\.jpg: no such file/);
  });
});

describe('a diverging run', { timeout: 180_000 }, () => {
  it('a huge learning rate: stops at the step it diverges, names the causes, and keeps the last good checkpoint unchanged', async () => {
    const out = join(root, 'nan');
    // A 3-layer MLP on full batches (one step per epoch) with plain SGD at lr 1e10: epochs 1
    // and 2 stay finite, the weights overflow in epoch 3.
    const args = (epochs: number, extra: string[] = []) =>
      quickTrainArgs(data, out, ['--model', 'FC32 -> RELU -> FC32 -> RELU -> FC10', '--batch-size', '1024', '--optimizer', 'sgd', '--lr', '1e10', '--val-fraction', '0', '--schedule', 'none', '--epochs', String(epochs), ...extra]);
    const first = await runCli(args(2));
    expect(first.code, first.stderr).toBe(0);
    const ckpt = join(out, 'checkpoint.convkit');
    const saved = readFileSync(ckpt);
    const modelBefore = statSync(join(out, 'model.convkit')).mtimeMs;

    const r = await runCli(args(6, ['--resume']));
    expectCleanError(r, /^convkit: the (loss|model's output) became (NaN|-?Infinity) at epoch 3, step 1 of 1; training stopped and the last good checkpoint, .*checkpoint\.convkit \(after epoch 2\), is kept unchanged\. Likely causes: a learning rate too high \(now 10000000000; try 10x smaller\), inputs not scaled/);
    expect(readFileSync(ckpt).equals(saved)).toBe(true);
    const state = deserializeCheckpoint(readFileSync(ckpt), ckpt);
    expect(state.epoch).toBe(2);
    expect([...state.model.values()].every((t) => t.dataSync().every(Number.isFinite))).toBe(true);
    expect(statSync(join(out, 'model.convkit')).mtimeMs).toBe(modelBefore); // no model saved from the diverged run
    await expect(loadWithMetadata(join(out, 'model.convkit'))).resolves.toBeTruthy();
  });
});
