import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportData } from '../../src/train/report-data.js';
import { ensureBuilt, expectCleanError, jsonLines, quickTrainArgs, removeDir, runCli, tempDir, writeTinyDigits } from './cli-helpers.js';

/**
 * The training report through the real command: train writes <out>/report.html (a resumed run's
 * report holds the whole history), and `convkit report <out>` rebuilds the same figures from the
 * checkpoint and model. The page itself is checked in Chromium by test/browser/report.browser.ts.
 */

let root: string;
let data: string;

beforeAll(async () => {
  await ensureBuilt();
  root = tempDir();
  data = writeTinyDigits(join(root, 'data'), 256, 96);
}, 240_000);

afterAll(() => removeDir(root));

/** The report's data, from the JSON script tag of the page. */
function pageData(file: string): ReportData {
  const html = readFileSync(file, 'utf8');
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error(`${file} holds no report data`);
  return JSON.parse(m[1]!) as ReportData;
}

const total = (d: ReportData) => d.confusion.flat().reduce((a, b) => a + b, 0);

describe('convkit report', { timeout: 180_000 }, () => {
  it('train writes report.html (the whole history after a resume); report rebuilds the same figures', async () => {
    const out = join(root, 'run');
    const args = quickTrainArgs(data, out, ['--test-size', '80', '--normalize', 'channel', '--schedule', 'none', '--json']);
    const first = await runCli([...args, '--epochs', '1']);
    expect(first.code, first.stderr).toBe(0);
    expect(pageData(join(out, 'report.html')).history.map((e) => e.epoch)).toEqual([1]);
    const r = await runCli([...args, '--epochs', '2', '--resume']);
    expect(r.code, r.stderr).toBe(0);
    const events = jsonLines(r.stdout);
    const file = join(out, 'report.html');
    expect(events.some((e) => e['event'] === 'message' && e['text'] === `report ${file}`)).toBe(true);
    const done = events.at(-1)!;
    expect(done['event']).toBe('done');

    const trained = pageData(file);
    expect(trained.history.map((e) => e.epoch)).toEqual([1, 2]);
    expect(trained.test.count).toBe(80);
    expect(total(trained)).toBe(80);
    expect(trained.test.accuracy).toBeCloseTo(done['testAccuracy'] as number, 10);
    expect(trained.test.loss).toBeCloseTo(done['testLoss'] as number, 4);
    expect(trained.classes).toHaveLength(10);
    expect(trained.worst).toHaveLength(24);
    expect(trained.filters?.shape).toEqual([4, 1, 5, 5]);
    expect(trained.settings).toMatchObject({ epochs: 2, testSize: 80, normalize: 'channel', seed: 7 });
    expect(trained.settings).not.toHaveProperty('modelMetadata');
    expect(trained.wallSeconds).toBeGreaterThan(0);

    // Rebuilt over the run's own report, the page keeps the run's wall time (only the run knew it).
    const over = await runCli(['report', out]);
    expect(over.code, over.stderr).toBe(0);
    expect(pageData(file).wallSeconds).toBe(trained.wallSeconds);
    rmSync(file);
    const again = await runCli(['report', out, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ report: file, testAccuracy: trained.test.accuracy, testCount: 80, epochs: 2 });
    const rebuilt = pageData(file);
    // The same weights on the same subset with the same normalization: the same figures.
    expect(rebuilt.confusion).toEqual(trained.confusion);
    expect(rebuilt.worst).toEqual(trained.worst);
    expect(rebuilt.history).toEqual(trained.history);
    expect(rebuilt.settings).toEqual(trained.settings);
    expect(rebuilt.filters).toEqual(trained.filters);
    expect(rebuilt.wallSeconds).toBeNull();

    // Without model.convkit the checkpoint's weights serve; --worst keeps fewer images.
    rmSync(join(out, 'model.convkit'));
    const fromCheckpoint = await runCli(['report', out, '--worst', '5']);
    expect(fromCheckpoint.code, fromCheckpoint.stderr).toBe(0);
    expect(fromCheckpoint.stdout).toMatch(/^report .*report\.html \(test accuracy \d+\.\d\d% on 80 images, 2 epochs\)\n$/);
    const d = pageData(file);
    expect(total(d)).toBe(80);
    expect(d.worst).toHaveLength(5);
  });

  it('says what is wrong with a missing folder, a folder without a checkpoint, or a damaged checkpoint', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const broken = join(root, 'broken');
    const truncated = join(root, 'truncated');
    mkdirSync(broken);
    mkdirSync(truncated);
    writeFileSync(join(broken, 'checkpoint.convkit'), 'not a checkpoint at all');
    // Cut short, as a full disk would leave it (the previous test's run wrote the checkpoint).
    const bytes = readFileSync(join(root, 'run', 'checkpoint.convkit'));
    writeFileSync(join(truncated, 'checkpoint.convkit'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    const [nowhere, notFolder, noCheckpoint, garbage, cut] = await Promise.all(
      [join(root, 'nowhere'), file, join(root, 'data'), broken, truncated].map((dir) => runCli(['report', dir])),
    );
    expectCleanError(nowhere!, /nowhere: no such folder; give the --out folder of a convkit train run/);
    expectCleanError(notFolder!, /a-file is not a folder/);
    expectCleanError(noCheckpoint!, /no checkpoint\.convkit there/);
    expectCleanError(garbage!, /broken\/checkpoint\.convkit: is not a convkit checkpoint file/);
    expectCleanError(cut!, /truncated\/checkpoint\.convkit: is corrupt or truncated/);
    expect(existsSync(join(truncated, 'report.html'))).toBe(false);
    expect(existsSync(join(broken, 'report.html'))).toBe(false);
  });
});
