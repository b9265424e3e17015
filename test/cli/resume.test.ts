import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWithMetadata } from '../../src/io/save-load.js';
import { deserializeCheckpoint } from '../../src/train/checkpoint.js';
import { ensureBuilt, jsonLines, quickTrainArgs, removeDir, runCli, tempDir, writeTinyDigits } from './cli-helpers.js';

/**
 * `convkit train --resume` through the real command: a run cut short (by ending early, or by a
 * crash in the middle of writing a checkpoint) and resumed ends with exactly the weights of
 * an uninterrupted run. The model has dropout and the run a cosine schedule, so the global
 * generator and the schedule must be restored as well as the weights, the optimizer and the
 * shuffle.
 */

let root: string;
let data: string;
const MODEL = 'CONV5-4 -> RELU -> POOL4 -> DROPOUT0.3 -> FC10';
const args = (out: string, epochs: number, extra: string[] = []) =>
  quickTrainArgs(data, out, ['--model', MODEL, '--epochs', String(epochs), '--json', ...extra]);

async function weightsOf(file: string): Promise<[string, number[]][]> {
  const { model } = await loadWithMetadata(file);
  return [...model.stateDict()].map(([k, t]) => [k, Array.from(t.dataSync())]);
}

let reference: [string, number[]][];
let referenceCosine: [string, number[]][];

beforeAll(async () => {
  await ensureBuilt();
  root = tempDir();
  data = writeTinyDigits(join(root, 'data'));
  const [plain, cosine] = await Promise.all([
    runCli(args(join(root, 'ref'), 3)),
    runCli(args(join(root, 'ref-cosine'), 3, ['--schedule', 'cosine'])),
  ]);
  expect(plain.code, plain.stderr).toBe(0);
  expect(cosine.code, cosine.stderr).toBe(0);
  reference = await weightsOf(join(root, 'ref', 'model.convkit'));
  referenceCosine = await weightsOf(join(root, 'ref-cosine', 'model.convkit'));
}, 120_000);

afterAll(() => removeDir(root));

describe('convkit train --resume', () => {
  it('is deterministic: the same seed gives the same weights, another seed others', async () => {
    const [again, other] = await Promise.all([runCli(args(join(root, 'again'), 3)), runCli(args(join(root, 'other'), 3, ['--seed', '8']))]);
    expect(again.code, again.stderr).toBe(0);
    expect(other.code, other.stderr).toBe(0);
    expect(await weightsOf(join(root, 'again', 'model.convkit'))).toEqual(reference);
    expect(await weightsOf(join(root, 'other', 'model.convkit'))).not.toEqual(reference);
  });

  it('3 epochs == 2 epochs, then --resume to 3 (bit-identical weights)', async () => {
    const out = join(root, 'two-plus-one');
    const first = await runCli(args(out, 2));
    expect(first.code, first.stderr).toBe(0);
    const second = await runCli(args(out, 3, ['--resume']));
    expect(second.code, second.stderr).toBe(0);
    const events = jsonLines(second.stdout);
    expect(events.some((e) => e['event'] === 'message' && /resuming from .* after epoch 2/.test(String(e['text'])))).toBe(true);
    expect(events.filter((e) => e['event'] === 'epoch').map((e) => e['epoch'])).toEqual([3]);
    expect(await weightsOf(join(out, 'model.convkit'))).toEqual(reference);
  });

  it('a crash while writing a checkpoint keeps the previous one, and --resume still gives the uninterrupted weights', async () => {
    const out = join(root, 'crash');
    // Dies (SIGKILL) inside the second checkpoint write, after the temporary file is written, before the rename.
    const crashed = await runCli(args(out, 3, ['--schedule', 'cosine']), { env: { CONVKIT_TEST_CRASH_IN_CHECKPOINT: '2' } });
    expect(crashed.signal).toBe('SIGKILL');
    const leftovers = readdirSync(out).filter((f) => f.endsWith('.tmp'));
    expect(leftovers).toHaveLength(1); // the write that was cut short
    const ckpt = join(out, 'checkpoint.convkit');
    const state = deserializeCheckpoint(readFileSync(ckpt), ckpt);
    expect(state.epoch).toBe(1);
    expect(existsSync(join(out, 'model.convkit'))).toBe(false);

    const resumed = await runCli(args(out, 3, ['--schedule', 'cosine', '--resume']));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(jsonLines(resumed.stdout).filter((e) => e['event'] === 'epoch').map((e) => e['epoch'])).toEqual([2, 3]);
    expect(await weightsOf(join(out, 'model.convkit'))).toEqual(referenceCosine);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]); // cleaned up by the next write
  });

  it('refuses to resume with settings that would change the result', async () => {
    const out = join(root, 'mismatch');
    const first = await runCli(args(out, 1, ['--schedule', 'cosine']));
    expect(first.code, first.stderr).toBe(0);
    const r = await runCli(args(out, 3, ['--schedule', 'cosine', '--resume', '--batch-size', '16']));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^convkit: .*checkpoint\.convkit: cannot resume: .*batchSize 32 there, 16 now/);
    // With a schedule laid out over --epochs, a different total is refused too.
    const r2 = await runCli(args(out, 4, ['--schedule', 'cosine', '--resume']));
    expect(r2.stderr).toMatch(/epochs 1 there, 4 now/);
  });
});
