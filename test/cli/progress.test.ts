import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressView } from '../../src/cli/progress-view.js';
import type { EpochEvent } from '../../src/train/progress.js';
import { ensureBuilt, jsonLines, quickTrainArgs, removeDir, runCli, tempDir, writeTinyDigits } from './cli-helpers.js';

/**
 * What `convkit train` prints: a live bar on a terminal; on a pipe (CI logs) one plain line
 * per epoch and no control characters; with --json one JSON object per line.
 */

let root: string;
let data: string;

beforeAll(async () => {
  await ensureBuilt();
  root = tempDir();
  data = writeTinyDigits(join(root, 'data'), 256, 64);
}, 240_000);

afterAll(() => removeDir(root));

describe.concurrent('convkit train output', { timeout: 180_000 }, () => {
  it('on a pipe: a header, one plain line per epoch, the test result; no bar, no escape codes', async () => {
    const r = await runCli(quickTrainArgs(data, join(root, 'plain'), ['--epochs', '3']));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/[\r\x1b]/);
    const lines = r.stdout.trimEnd().split('\n');
    // The quick model is a pattern without INPUT[...]: the first line says the data decides its input.
    expect(lines[0]).toBe("note: the pattern has no INPUT[...]: its input is the data's 28x28x1");
    expect(lines[1]).toMatch(/^training .* on .* for 3 epochs, batch 32, adam lr 0\.001(?: \(\w+ schedule\))?, inputs in \[0, 1\], seed 7, backend \w+$/);
    const epochs = lines.filter((l) => l.startsWith('epoch '));
    expect(epochs).toHaveLength(3);
    epochs.forEach((l, i) =>
      expect(l).toMatch(new RegExp(`^epoch ${i + 1}/3  loss \\d+\\.\\d{4}  acc \\d+\\.\\d\\d%  val_loss \\d+\\.\\d{4}  val_acc \\d+\\.\\d\\d%  lr \\S+  \\d+ img/s  \\d+\\.\\ds$`)),
    );
    expect(lines.at(-3)).toBe(`report ${join(root, 'plain', 'report.html')}`);
    expect(lines.at(-2)).toMatch(/^test accuracy \d+\.\d\d% \(top-5 \d+\.\d\d%, loss \d+\.\d{4}\) on 64 images$/);
    expect(lines.at(-1)).toBe(`saved ${join(root, 'plain', 'model.convkit')}`);
    expect(lines).toHaveLength(8);
  });

  it('--json: every line is JSON; epoch events with loss and accuracy, then done with the test accuracy', async () => {
    const r = await runCli(quickTrainArgs(data, join(root, 'json'), ['--epochs', '2', '--json']));
    expect(r.code, r.stderr).toBe(0);
    const events = jsonLines(r.stdout);
    const epochs = events.filter((e) => e['event'] === 'epoch');
    expect(epochs.map((e) => e['epoch'])).toEqual([1, 2]);
    for (const e of epochs) {
      for (const k of ['trainLoss', 'trainAccuracy', 'trainTop5', 'valLoss', 'valAccuracy', 'valTop5', 'lr', 'seconds', 'imagesPerSecond']) {
        expect(typeof e[k], k).toBe('number');
      }
    }
    const done = events.at(-1)!;
    expect(done).toMatchObject({ event: 'done', testCount: 64, model: join(root, 'json', 'model.convkit') });
    expect(done['testAccuracy']).toBeGreaterThanOrEqual(0);
    expect(done['testAccuracy']).toBeLessThanOrEqual(1);
    expect(events.filter((e) => !['epoch', 'done', 'message'].includes(String(e['event'])))).toEqual([]);
  });
});

/** A stream that says it is a terminal and keeps what is written. */
function fakeTty(): Writable & { isTTY: boolean; columns: number; text(): string } {
  const chunks: string[] = [];
  const s = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  }) as Writable & { isTTY: boolean; columns: number; text(): string };
  s.isTTY = true;
  s.columns = 120;
  s.text = () => chunks.join('');
  return s;
}

const epochEvent: EpochEvent = {
  epoch: 1,
  epochs: 2,
  trainLoss: 0.5,
  trainAccuracy: 0.9,
  trainTop5: 1,
  valLoss: 0.4,
  valAccuracy: 0.92,
  valTop5: 1,
  lr: 0.001,
  seconds: 2,
  imagesPerSecond: 500,
};

describe('progressView', () => {
  it('on a terminal: a live bar with epoch, steps, loss, accuracy, images/s and ETA, then the epoch line', () => {
    const tty = fakeTty();
    const view = progressView('auto', tty as unknown as NodeJS.WriteStream);
    for (let step = 1; step <= 3; step++) {
      view.onStep!({ epoch: 1, epochs: 2, step, stepsPerEpoch: 10, loss: 1 / step, accuracy: 0.5, imagesPerSecond: 640, lr: 0.001 });
    }
    view.onEpoch!(epochEvent);
    view.stop();
    const text = tty.text();
    expect(text).toMatch(/epoch 1\/2 \|.*\| \d+\/10 steps {2}loss \d\.\d{4} {2}acc 50\.00% {2}640 img\/s {2}ETA \S+/);
    expect(text).toContain('epoch 1/2  loss 0.5000  acc 90.00%  val_loss 0.4000  val_acc 92.00%');
  });

  it('on a pipe: only the epoch line; with json: one object', () => {
    const pipe = fakeTty();
    pipe.isTTY = false;
    const plain = progressView('auto', pipe as unknown as NodeJS.WriteStream);
    plain.onStep?.({ epoch: 1, epochs: 2, step: 1, stepsPerEpoch: 10, loss: 1, accuracy: 0.5, imagesPerSecond: 640, lr: 0.001 });
    plain.onEpoch!(epochEvent);
    expect(pipe.text()).toBe('epoch 1/2  loss 0.5000  acc 90.00%  val_loss 0.4000  val_acc 92.00%  lr 0.00100  500 img/s  2.0s\n');

    const out = fakeTty();
    const json = progressView('json', out as unknown as NodeJS.WriteStream);
    json.onEpoch!(epochEvent);
    json.onMessage!('hello');
    expect(out.text().trimEnd().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([{ event: 'epoch', ...epochEvent }, { event: 'message', text: 'hello' }]);
  });
});
