import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWithMetadata } from '../../src/io/save-load.js';
import { deserializeCheckpoint } from '../../src/train/checkpoint.js';
import { SAME_RESULTS_ENV, ensureBuilt, expectJsonError, jsonLines, quickTrainArgs, removeDir, runCli, tempDir, writeTinyDigits } from './cli-helpers.js';

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
  // No schedule unless `extra` names one (a later --schedule wins).
  quickTrainArgs(data, out, ['--model', MODEL, '--epochs', String(epochs), '--json', '--schedule', 'none', ...extra]);

async function weightsOf(file: string): Promise<[string, number[]][]> {
  const { model } = await loadWithMetadata(file);
  return [...model.stateDict()].map(([k, t]) => [k, Array.from(t.dataSync())]);
}

let reference: [string, number[]][];
let referenceCosine: [string, number[]][];

beforeAll(async () => {
  await ensureBuilt();
  root = tempDir();
  data = writeTinyDigits(join(root, 'data'), 256, 64);
  const [plain, cosine] = await Promise.all([
    runCli(args(join(root, 'ref'), 3), { env: SAME_RESULTS_ENV }),
    runCli(args(join(root, 'ref-cosine'), 3, ['--schedule', 'cosine']), { env: SAME_RESULTS_ENV }),
  ]);
  expect(plain.code, plain.stderr).toBe(0);
  expect(cosine.code, cosine.stderr).toBe(0);
  reference = await weightsOf(join(root, 'ref', 'model.convkit'));
  referenceCosine = await weightsOf(join(root, 'ref-cosine', 'model.convkit'));
}, 240_000);

afterAll(() => removeDir(root));

// Generous time limits: each run takes about a second alone, but much longer on a loaded machine.
describe('convkit train --resume', { timeout: 180_000 }, () => {
  it('3 epochs == 2 epochs, then --resume to 3 (bit-identical weights)', async () => {
    const out = join(root, 'two-plus-one');
    const first = await runCli(args(out, 2), { env: SAME_RESULTS_ENV });
    expect(first.code, first.stderr).toBe(0);
    const second = await runCli(args(out, 3, ['--resume']), { env: SAME_RESULTS_ENV });
    expect(second.code, second.stderr).toBe(0);
    const events = jsonLines(second.stdout);
    expect(events.some((e) => e['event'] === 'message' && /resuming from .* after epoch 2/.test(String(e['text'])))).toBe(true);
    expect(events.filter((e) => e['event'] === 'epoch').map((e) => e['epoch'])).toEqual([3]);
    expect(await weightsOf(join(out, 'model.convkit'))).toEqual(reference);
  });

  it('a crash while writing a checkpoint keeps the previous one, and --resume still gives the uninterrupted weights', async () => {
    const out = join(root, 'crash');
    // Dies (SIGKILL) inside the second checkpoint write, after the temporary file is written, before the rename.
    const crashed = await runCli(args(out, 3, ['--schedule', 'cosine']), { env: { ...SAME_RESULTS_ENV, CONVKIT_TEST_CRASH_IN_CHECKPOINT: '2' } });
    expect(crashed.signal).toBe('SIGKILL');
    const leftovers = readdirSync(out).filter((f) => f.endsWith('.tmp'));
    expect(leftovers).toHaveLength(1); // the write that was cut short
    const ckpt = join(out, 'checkpoint.convkit');
    const state = deserializeCheckpoint(readFileSync(ckpt), ckpt);
    expect(state.epoch).toBe(1);
    expect(existsSync(join(out, 'model.convkit'))).toBe(false);

    const resumed = await runCli(args(out, 3, ['--schedule', 'cosine', '--resume']), { env: SAME_RESULTS_ENV });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(jsonLines(resumed.stdout).filter((e) => e['event'] === 'epoch').map((e) => e['epoch'])).toEqual([2, 3]);
    expect(await weightsOf(join(out, 'model.convkit'))).toEqual(referenceCosine);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]); // cleaned up by the next write
  });

  it('refuses to resume with settings that would change the result', async () => {
    // The checkpoint of the crash test above: cosine schedule over 3 epochs, batch 32.
    const out = join(root, 'crash');
    const [batch, epochs] = await Promise.all([
      runCli(args(out, 3, ['--schedule', 'cosine', '--resume', '--batch-size', '16']), { env: SAME_RESULTS_ENV }),
      // With a schedule laid out over --epochs, a different total is refused too.
      runCli(args(out, 4, ['--schedule', 'cosine', '--resume']), { env: SAME_RESULTS_ENV }),
    ]);
    // The runs print --json, so their errors are JSON too.
    expectJsonError(batch, /checkpoint\.convkit: cannot resume: the checkpoint was written with different settings \(batchSize 32 there, 16 now\)/);
    expectJsonError(epochs, /epochs 3 there, 4 now/);
  });
});
