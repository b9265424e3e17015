import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, expectCleanError, type CliResult, jsonLines, quickTrainArgs, removeDir, ROOT, runCli, tempDir, writeTinyDigits } from './cli-helpers.js';

/**
 * The messages issue #16 lists as misleading, each with its new wording, and the README's
 * pattern example run as printed.
 */

/** A pattern error: the message line, then the pattern and a caret under the column, exit code 1. */
function expectPatternError(r: CliResult, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(3);
  expect(lines[0]).toMatch(/^convkit: pattern error at column \d+: /);
  expect(lines[0]).toMatch(pattern);
  expect(lines[2]).toMatch(/^ +\^$/);
}

let root: string;
let data: string;
let model: string;
let fcn: string;
let digit: string;

beforeAll(async () => {
  await ensureBuilt();
  root = tempDir();
  data = writeTinyDigits(join(root, 'data'), 256, 64);
  const r = await runCli(quickTrainArgs(data, join(root, 'run'), ['--epochs', '1']));
  expect(r.code, r.stderr).toBe(0);
  model = join(root, 'run', 'model.convkit');
  fcn = join(root, 'fcn.convkit');
  expect((await runCli(['convert-fc', model, fcn])).code).toBe(0);
  digit = join(root, 'bar.png');
  const px = Buffer.alloc(28 * 28);
  for (let y = 4; y < 24; y++) for (let x = 12; x < 16; x++) px[y * 28 + x] = 255;
  await sharp(px, { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(digit);
}, 300_000);

afterAll(() => removeDir(root));

describe.concurrent('messages that say what is true', { timeout: 300_000 }, () => {
  it("a pattern's INPUT[...] that the data does not match names both shapes and the fix", async () => {
    const r = await runCli(['train', '--model', 'INPUT[32x32x3] -> CONV3-4 -> POOL2 -> FC10', '--data', data, '--out', join(root, 'x1')]);
    expectCleanError(r, /the pattern's INPUT\[32x32x3\] takes 32x32x3 inputs but .* gives 28x28x1 images; give --size 32 --channels 3/);
  });

  it('a pattern without INPUT[...] says in its first line of output that the data decides, and --train-size trains on a subset', async () => {
    const r = await runCli([...quickTrainArgs(data, join(root, 'x2'), ['--epochs', '1', '--train-size', '100', '--json'])]);
    expect(r.code, r.stderr).toBe(0);
    const events = jsonLines(r.stdout);
    expect(events[0]).toMatchObject({ event: 'message', text: "note: the pattern has no INPUT[...]: its input is the data's 28x28x1" });
    expect(String(events[1]!['text'])).toMatch(/\(90 train, 10 validation, 64 test images of 28x28x1\)/);
  });

  it('eval --test-size scores the subset train scored (same seed, from the model), on a checkpoint as well', async () => {
    const out = join(root, 'subset');
    const r = await runCli(quickTrainArgs(data, out, ['--epochs', '1', '--test-size', '40', '--json']));
    expect(r.code, r.stderr).toBe(0);
    const done = jsonLines(r.stdout).at(-1)!;
    for (const file of ['model.convkit', 'checkpoint.convkit']) {
      const e = await runCli(['eval', join(out, file), '--test-size', '40', '--json']);
      expect(e.code, e.stderr).toBe(0);
      expect(JSON.parse(e.stdout)).toMatchObject({ count: 40, accuracy: done['testAccuracy'], loss: expect.closeTo(done['testLoss'] as number, 5) });
    }
  });

  it('the last FC layer must give one score per class; a pattern without one gets it added, with a note', async () => {
    const few = await runCli(['train', '--model', 'CONV5-4 -> RELU -> POOL4 -> FC2', '--data', data, '--out', join(root, 'x3')]);
    expectPatternError(few, /FC2 gives 2 class scores but the data has 10 classes; end the pattern with FC10/);
    const none = await runCli(['train', '--model', 'CONV5-4 -> RELU -> POOL4 -> GAP', '--data', data, '--epochs', '1', '--out', join(root, 'x4'), '--json']);
    expect(none.code, none.stderr).toBe(0);
    expect(jsonLines(none.stdout).some((e) => e['text'] === "note: the pattern ends without an FC layer; added FC10 for the data's 10 classes")).toBe(true);
  });

  it('CONV<F>-<K>/1 is stride 1 with padding 0, labelled as written; *0 is refused', async () => {
    const s = await runCli(['summary', 'INPUT[32x32x3] -> CONV5-8/1 -> CONV4-8/1', '--json']);
    expect(s.code, s.stderr).toBe(0);
    const rows = (JSON.parse(s.stdout) as { rows: { label: string; volume: string; counted: boolean }[] }).rows.filter((r) => r.counted);
    expect(rows.map((r) => [r.label, r.volume])).toEqual([['CONV5-8/1', '[28x28x8]'], ['CONV4-8/1', '[25x25x8]']]);
    expectPatternError(await runCli(['summary', 'INPUT[8x8x1] -> [RELU]*0 -> FC2']), /a repeat count of 0 would drop what it repeats/);
  });

  it('a window that does not fit deep in a network suggests network input sizes', async () => {
    const r = await runCli(['summary', 'INPUT[200x200x3] -> [CONV3-8 -> RELU -> POOL2]*4 -> FC10']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/a network input of 192x192x3 or 208x208x3 \(instead of 200x200x3\)/);
    expect(r.stderr).not.toMatch(/an input \d+ or \d+ wide/);
    // The same for a saved model given another input: POOL4 cannot tile 30, and its FC layer takes only what 28 gives.
    const saved = await runCli(['summary', model, '--input', '30x30x1']);
    expectCleanError(saved, /a network input of 28x28x1 \(instead of 30x30x1\)/);
  });

  it('plain predict on a converted model suggests --dense; --input that disagrees with the model is an error', async () => {
    expectCleanError(await runCli(['predict', fcn, digit]), /not class scores \[1, classes\]; it is fully convolutional \(convkit convert-fc\): use convkit predict --dense/);
    expectCleanError(await runCli(['predict', model, digit, '--input', '32x32x1']), /--input 32x32x1 disagrees with .*model\.convkit, which records its input as 28x28x1; leave --input out/);
  });

  it('predict --dense scales a large image to the training scale', async () => {
    const big = join(root, 'big.png');
    await sharp(digit).resize(200, 200).png().toFile(big);
    const small = JSON.parse((await runCli(['predict', fcn, digit, '--dense', '--json'])).stdout);
    const r = await runCli(['predict', fcn, big, '--dense', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout);
    // Scaled to 28x28 (a one-cell grid): the same prediction as the 28x28 picture, not a 14% average of windows.
    expect(p.grid).toMatchObject({ rows: 1, cols: 1, scaledTo: [28, 28], imageSize: [200, 200] });
    expect(p.top[0].index).toBe(small.top[0].index);
    expect(p.top[0].probability).toBeCloseTo(small.top[0].probability, 1);
    const none = JSON.parse((await runCli(['predict', fcn, big, '--dense', '--json', '--scale', 'none'])).stdout);
    expect(none.grid.rows).toBeGreaterThan(1);
  });

  it('playground --port out of range is a usage error, not an internal error', async () => {
    expectCleanError(await runCli(['playground', '--port', '99999']), /--port must be a port number from 1 to 65535 \(or 0 for any free port\), got '99999'/);
  });

  it('--json errors are one JSON object on stderr', async () => {
    const bad = await runCli(['eval', join(root, 'missing.convkit'), '--json']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(JSON.parse(bad.stderr)).toEqual({ error: expect.stringMatching(/missing\.convkit: no such file/), kind: 'input' });
    const usage = await runCli(['train', '--frobnicate', '--json']);
    expect(usage.code).not.toBe(0);
    expect(JSON.parse(usage.stderr)).toEqual({ error: "unknown option '--frobnicate' (see convkit train --help)", kind: 'usage' });
  });

  it('invalid environment variables are errors', async () => {
    expectCleanError(await runCli(['info', model], { env: { CONVKIT_BACKEND: 'bogus' } }), /CONVKIT_BACKEND=bogus is not a backend; use js, wasm or webgpu/);
    expectCleanError(await runCli(['info', model], { env: { CONVKIT_THREADS: 'abc' } }), /CONVKIT_THREADS=abc is not a number of threads; give a positive integer/);
    expectCleanError(await runCli(['info', model], { env: { CONVKIT_THREADS: '0' } }), /CONVKIT_THREADS=0 is not a number of threads/);
    expect((await runCli(['info', model], { env: { CONVKIT_BACKEND: 'js', CONVKIT_THREADS: '2' } })).code).toBe(0);
  });

  it('train takes the optimizers summary sizes (nesterov, adamw)', async () => {
    for (const optimizer of ['nesterov', 'adamw']) {
      const r = await runCli(quickTrainArgs(data, join(root, `opt-${optimizer}`), ['--epochs', '1', '--optimizer', optimizer, '--json']));
      expect(r.code, r.stderr).toBe(0);
      expect(String(jsonLines(r.stdout)[1]!['text'])).toMatch(new RegExp(`, ${optimizer} lr `));
    }
  });

  it('Ctrl-C during the first epoch says that no checkpoint exists yet', async () => {
    const out = join(root, 'early-stop');
    let sent = false;
    const r = await runCli(['train', '--model', 'lenet5', '--data', data, '--batch-size', '1', '--epochs', '1', '--out', out, '--json'], {
      onStdout: (text, child) => {
        if (!sent && /"event":"message","text":"training /.test(text)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(r.code, r.stderr).toBe(130);
    const texts = jsonLines(r.stdout).map((e) => String(e['text'] ?? ''));
    expect(texts).toContain('interrupted: stopping after this step (again to quit at once); no checkpoint is written before the first epoch ends, so this run will leave none');
    expect(texts.at(-1)).toBe('stopped before the first epoch ended: no checkpoint to resume from; run the command again to start over');
    expect(existsSync(join(out, 'checkpoint.convkit'))).toBe(false);
  });

  it("the README's pattern example trains as printed", async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### The pattern language'));
    const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!.replace(/\\\n\s*/g, '');
    const args = block.trim().replace(/^convkit /, '').match(/"[^"]*"|\S+/g)!.map((a) => a.replace(/^"|"$/g, ''));
    expect(args.slice(0, 2)).toEqual(['train', '--model']);
    const r = await runCli([...args, '--out', join(root, 'readme'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const done = jsonLines(r.stdout).at(-1)!;
    expect(done['event']).toBe('done');
    // One epoch on 2,000 digits learns something (chance is 10%).
    expect(done['testAccuracy']).toBeGreaterThan(0.3);
  });
});
