import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import * as ck from '../../src/index.js';
import { loadDataset } from '../../src/data/builtin.js';
import { loadWithMetadata } from '../../src/io/save-load.js';
import { checkTta } from '../../src/cli/commands/predict.js';
import { expectConvkitError } from '../helpers/assert.js';
import { SAME_RESULTS_ENV, ensureBuilt, expectCleanError, expectJsonError, jsonLines, quickTrainArgs, removeDir, runCli, tempDir, writeTinyDigits } from './cli-helpers.js';

/**
 * convkit train's training options through the real command: --resume stays bit-exact with
 * augmentation, label smoothing, a weight average and a warm-up on; the options' errors; a
 * recipe prints its command line and yields to explicit flags; eval --tta.
 */

let root: string;
let data: string;
// Batch norm, so the average covers running statistics too; dropout, so the global generator matters.
const MODEL = 'CONV5-4 -> BN -> RELU -> POOL4 -> DROPOUT0.2 -> FC10';
const ALL_ON = ['--augment', 'crop,flip,affine:8,erase:0.5', '--label-smoothing', '0.1', '--ema', '0.9', '--warmup', '1', '--schedule', 'cosine', '--optimizer', 'nesterov', '--lr', '0.05'];
const args = (out: string, extra: string[] = []) => quickTrainArgs(data, out, ['--model', MODEL, '--epochs', '3', '--json', ...ALL_ON, ...extra]);

async function weightsOf(file: string): Promise<[string, number[]][]> {
  const { model } = await loadWithMetadata(file);
  return [...model.stateDict()].map(([k, t]) => [k, Array.from(t.dataSync())]);
}

beforeAll(async () => {
  await ensureBuilt();
  root = tempDir();
  data = writeTinyDigits(join(root, 'data'), 192, 64);
}, 240_000);

afterAll(() => removeDir(root));

describe('convkit train options', { timeout: 180_000 }, () => {
  it('--resume with augmentation, label smoothing, EMA and warm-up ends with the weights of the uninterrupted run, bit for bit', async () => {
    const ref = join(root, 'ref');
    const out = join(root, 'crash');
    const [full, crashed] = await Promise.all([
      runCli(args(ref), { env: SAME_RESULTS_ENV }),
      // Dies inside the second checkpoint write: the checkpoint on disk holds epoch 1.
      runCli(args(out), { env: { ...SAME_RESULTS_ENV, CONVKIT_TEST_CRASH_IN_CHECKPOINT: '2' } }),
    ]);
    expect(full.code, full.stderr).toBe(0);
    expect(crashed.signal).toBe('SIGKILL');
    const messages = jsonLines(full.stdout).filter((e) => e['event'] === 'message').map((e) => String(e['text']));
    expect(messages.some((m) => /augmentation crop \(padding 2\), flip \(p 0.5\), rotate \(\+-8 deg\), erase \(p 0.5\), label smoothing 0.1/.test(m))).toBe(true);
    expect(messages.some((m) => /after 1 warm-up epoch/.test(m))).toBe(true);
    expect(messages.some((m) => /weight average \(EMA, decay 0.9\): validation, the test and the saved model use the averaged weights/.test(m))).toBe(true);

    const resumed = await runCli(args(out, ['--resume']), { env: SAME_RESULTS_ENV });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(jsonLines(resumed.stdout).filter((e) => e['event'] === 'epoch').map((e) => e['epoch'])).toEqual([2, 3]);
    expect(await weightsOf(join(out, 'model.convkit'))).toEqual(await weightsOf(join(ref, 'model.convkit')));
    // The same validation figures and learning rates epoch by epoch (the warm-up and the average restored).
    const epochs = (s: string) => jsonLines(s).filter((e) => e['event'] === 'epoch').map((e) => [e['epoch'], e['valLoss'], e['lr']]);
    expect(epochs(resumed.stdout)).toEqual(epochs(full.stdout).slice(1));
    const done = (s: string) => jsonLines(s).find((e) => e['event'] === 'done')!;
    expect(done(resumed.stdout)['testAccuracy']).toBe(done(full.stdout)['testAccuracy']);
    const { metadata } = await loadWithMetadata(join(ref, 'model.convkit'));
    expect(metadata['training']).toMatchObject({ warmup: 1, augment: 'crop,flip,affine:8,erase:0.5', labelSmoothing: 0.1, ema: 0.9 });
  });

  it('refuses to resume with other augmentation, smoothing, average or warm-up, naming each', async () => {
    const changed = await runCli(args(join(root, 'ref'), ['--resume', '--augment', 'crop', '--label-smoothing', '0', '--ema', '0.99', '--warmup', '2']), { env: SAME_RESULTS_ENV });
    expectJsonError(changed, /different settings \(warmup 1 there, 2 now; augment "crop,flip,affine:8,erase:0.5" there, "crop" now; labelSmoothing 0.1 there, 0 now; ema 0.9 there, 0.99 now\)/);
  });

  it('explains bad values before reading any data', async () => {
    const out = join(root, 'bad');
    const run = (extra: string[]) => runCli(quickTrainArgs(data, out, ['--epochs', '2', ...extra]));
    const results = await Promise.all([
      run(['--schedule', 'plateau', '--val-fraction', '0', '--warmup', '1']),
      run(['--warmup', '2', '--recipe', 'mnist']),
      run(['--augment', 'jitter']),
      runCli(['train', '--data', 'digits', '--augment', 'flip', '--out', out]),
    ]);
    expectCleanError(results[0]!, /--schedule plateau watches the validation loss, so it needs a validation set/);
    expectCleanError(results[1]!, /--warmup 2 leaves no epochs for training after it/);
    expectCleanError(results[2]!, /jitter changes colours and needs RGB images; these have 1 channel/);
    expectCleanError(results[3]!, /flip mirrors the digits into other symbols/);
  });

  it('--recipe prints the equivalent command line, explicit flags winning; --schedule plateau trains', async () => {
    const out = join(root, 'recipe');
    const [recipe, plateau] = await Promise.all([
      runCli(['train', '--recipe', 'fashion-mnist', '--model', 'lenet5', '--data', data, '--epochs', '2', '--train-size', '96', '--test-size', '32', '--out', out, '--json'], { env: SAME_RESULTS_ENV }),
      runCli(quickTrainArgs(data, join(root, 'plateau'), ['--epochs', '2', '--schedule', 'plateau', '--plateau-patience', '0', '--plateau-factor', '0.5', '--json']), { env: SAME_RESULTS_ENV }),
    ]);
    expect(recipe.code, recipe.stderr).toBe(0);
    const first = jsonLines(recipe.stdout).find((e) => e['event'] === 'message')!;
    expect(String(first['text'])).toBe(
      `recipe fashion-mnist (your --model, --data, --epochs over the recipe's): convkit train --model lenet5 --data ${data} --epochs 2 --batch-size 128 ` +
        `--optimizer nesterov --lr 0.1 --momentum 0.9 --weight-decay 0.0005 --schedule cosine --warmup 1 --augment standard --label-smoothing 0.1 ` +
        `--normalize channel --train-size 96 --test-size 32 --out ${out} --json`,
    );
    const { metadata } = await loadWithMetadata(join(out, 'model.convkit'));
    expect(metadata['training']).toMatchObject({ epochs: 2, batchSize: 128, optimizer: 'nesterov', schedule: 'cosine', warmup: 1, augment: 'standard', labelSmoothing: 0.1 });
    expect(metadata.normalization).toBeTruthy();

    expect(plateau.code, plateau.stderr).toBe(0);
    const lrs = jsonLines(plateau.stdout).filter((e) => e['event'] === 'epoch').map((e) => e['lr'] as number);
    expect(lrs).toHaveLength(2);
    expect(lrs[0]).toBe(0.001); // adam's default, unchanged in the first epoch
  });

  it('eval --tta scores the mean of each image and its mirror image; refused for the digits', async () => {
    const model = join(root, 'ref', 'model.convkit');
    const [plain, tta, digits] = await Promise.all([
      runCli(['eval', model, '--json']),
      runCli(['eval', model, '--json', '--tta']),
      runCli(['eval', model, '--data', 'digits', '--tta']),
    ]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(tta.code, tta.stderr).toBe(0);
    const [a, b] = [JSON.parse(plain.stdout), JSON.parse(tta.stdout)];
    expect(b).toMatchObject({ tta: true, count: 64 });
    expect(b.loss).not.toBe(a.loss);
    expectCleanError(digits, /--tta mirrors the images, and a mirrored digit is another symbol/);
    expect(readdirSync(join(root, 'ref'))).toEqual(expect.arrayContaining(['model.convkit', 'checkpoint.convkit']));
  });

  it('predict --tta gives the mean of the probabilities of the image and its mirror image', async () => {
    const modelFile = join(root, 'ref', 'model.convkit');
    const input = new Float32Array(784);
    loadDataset(data, { split: 'test' }).readInto!(5, input, 0);
    const png = join(root, 'digit5.png');
    await sharp(Buffer.from(Uint8Array.from(input, (v) => Math.round(v * 255))), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(png);
    const r = await runCli(['predict', modelFile, png, '--json', '--tta', '--top', '10']);
    expect(r.code, r.stderr).toBe(0);
    const got = (JSON.parse(r.stdout) as { top: { index: number; probability: number }[] }).top;
    const { model } = await loadWithMetadata(modelFile);
    model.eval();
    const want = ck.F.softmax(ck.train.ttaForward(model, ck.tensor(input, [1, 1, 28, 28])), 1).dataSync();
    for (const t of got) expect(t.probability).toBeCloseTo(want[t.index]!, 5);
    expect(got.reduce((a, t) => a + t.probability, 0)).toBeCloseTo(1, 5);
    // Refused for digit models and dense grids.
    expectConvkitError(() => checkTta({ trainedOn: 'digits' }, false), /a mirrored digit is another symbol/);
    expectConvkitError(() => checkTta({}, true), /--tta and --dense do not go together/);
  });
});
