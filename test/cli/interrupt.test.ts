import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWithMetadata } from '../../src/io/save-load.js';
import { SAME_RESULTS_ENV, ensureBuilt, jsonLines, quickTrainArgs, removeDir, runCli, tempDir, writeTinyDigits } from './cli-helpers.js';

/**
 * Stopping `convkit train` from outside: Ctrl-C (SIGINT) stops cleanly after the current step
 * and says how to continue; `kill -9` at a random moment may hit anything, a checkpoint write
 * included. Either way, --resume ends with the weights of an uninterrupted run.
 */

let root: string;
let data: string;
const EPOCHS = 4;
const args = (out: string, extra: string[] = []) =>
  quickTrainArgs(data, out, ['--model', 'CONV5-4 -> RELU -> POOL4 -> DROPOUT0.3 -> FC10', '--epochs', String(EPOCHS), '--batch-size', '16', '--json', ...extra]);

async function weightsOf(file: string): Promise<[string, number[]][]> {
  const { model } = await loadWithMetadata(file);
  return [...model.stateDict()].map(([k, t]) => [k, Array.from(t.dataSync())]);
}

let reference: [string, number[]][];
/** Milliseconds the reference run spent from its first line of output to its exit. */
let trainingMs = 0;

beforeAll(async () => {
  await ensureBuilt();
  root = tempDir();
  data = writeTinyDigits(join(root, 'data'), 256, 64);
  let firstLine = 0;
  const r = await runCli(args(join(root, 'ref')), { env: SAME_RESULTS_ENV, onStdout: () => (firstLine ||= Date.now()) });
  trainingMs = Date.now() - firstLine;
  expect(r.code, r.stderr).toBe(0);
  reference = await weightsOf(join(root, 'ref', 'model.convkit'));
}, 240_000);

afterAll(() => removeDir(root));

// Generous time limits: each run takes about a second alone, but much longer on a loaded machine.
describe('interrupting convkit train', { timeout: 180_000 }, () => {
  it('Ctrl-C stops after the current step with exit code 130, keeps the checkpoint, and --resume matches the uninterrupted run', async () => {
    const out = join(root, 'sigint');
    let sent = false;
    const r = await runCli(args(out), {
      env: SAME_RESULTS_ENV,
      onStdout: (text, child) => {
        if (!sent && /"event":"epoch","epoch":1,/.test(text)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(r.code, r.stderr).toBe(130);
    const events = jsonLines(r.stdout);
    expect(events.some((e) => /continue with: convkit train .*--resume/.test(String(e['text'])))).toBe(true);
    expect(events.some((e) => e['event'] === 'done')).toBe(false);

    const resumed = await runCli(args(out, ['--resume']), { env: SAME_RESULTS_ENV });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await weightsOf(join(out, 'model.convkit'))).toEqual(reference);
  });

  it('kill -9 at a random moment, then --resume, gives the uninterrupted weights', async () => {
    const out = join(root, 'kill9');
    // Anywhere in the training part of the run: before, between or during checkpoint writes.
    const delay = Math.floor(Math.random() * trainingMs);
    let timer: NodeJS.Timeout | undefined;
    const r = await runCli(args(out), {
      env: SAME_RESULTS_ENV,
      onStdout: (_text, child) => {
        timer ??= setTimeout(() => child.kill('SIGKILL'), delay);
      },
    });
    clearTimeout(timer);
    // The run may have finished before the signal; it must not have failed any other way.
    expect(r.signal === 'SIGKILL' || r.code === 0, `killed after ${delay} ms: ${r.stderr}`).toBe(true);
    const resumed = await runCli(args(out, ['--resume']), { env: SAME_RESULTS_ENV });
    expect(resumed.code, `killed after ${delay} ms: ${resumed.stderr}`).toBe(0);
    expect(await weightsOf(join(out, 'model.convkit')), `killed after ${delay} ms of ${trainingMs}`).toEqual(reference);
  });
});
