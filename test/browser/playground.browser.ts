import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as ck from '../../src/index.js';
import { openPlayground, runHash, shown as shownIn, traceMainThread, type Session } from './browser.js';

/**
 * The playground in headless Chromium, against the built page (dist/web) served on
 * 127.0.0.1: it trains in a worker without freezing the page, its controls and views do what
 * they say, and its numbers check out against ones recomputed here. The tests run in order
 * on one page. Screenshots of the main views go to docs/.
 */

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const SHAPES_NET = 'INPUT[32x32x3] -> [CONV3-8 -> RELU -> POOL2]*2 -> CONV3-16 -> RELU -> POOL2 -> FC4';
const DIGITS_NET = 'INPUT[28x28x1] -> [[CONV3-8 -> RELU]*2 -> POOL2]*2 -> FC10';
const STEPS = 300;

/** What the page exposes as window.convkitPlayground (web/src/app.ts, PageState). */
interface PageState {
  ready: boolean;
  stats: { step: number; running: boolean; imagesPerSecond: number; points: unknown[] } | null;
  lastEval: { step: number; count: number; accuracy: number; loss: number; confusionTotal: number } | null;
  snapshotStep: number | null;
  error: string | null;
}

/** A data-* field of an element's dataset as returned by page.evaluate. */
const field = (o: object, key: string): string => String((o as Record<string, unknown>)[key]);

let s: Session;
let page: Page;
/** Validation loss of the untrained network (the evaluation at step 0). */
let startLoss = 0;

const state = (): Promise<PageState> => page.evaluate(() => (window as unknown as { convkitPlayground: PageState }).convkitPlayground);

async function until(what: string, check: (st: PageState) => boolean, timeout = 60_000): Promise<PageState> {
  const start = Date.now();
  for (;;) {
    const st = await state();
    if (st?.error) throw new Error(`the page reported: ${st.error}`);
    if (st && check(st)) return st;
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}; state: ${JSON.stringify(st)}`);
    await page.waitForTimeout(100);
  }
}

/** Pauses and waits until the worker has stopped and the views show the last step. */
async function pause(): Promise<PageState> {
  await page.click('#train');
  return until('the pause to settle', (st) => st.stats?.running === false && st.snapshotStep === st.stats.step && st.lastEval?.step === st.stats.step);
}

const shown = (selector: string, step: number): Promise<void> => shownIn(page, selector, step);

async function open(hash: string): Promise<void> {
  // A new document each time (a change of fragment alone would not reload the page).
  await page.goto('about:blank');
  await page.goto(`${s.server.url}${hash}`);
  await until('the worker to be ready', (st) => st.ready && st.snapshotStep !== null && st.lastEval !== null);
}

beforeAll(async () => {
  s = await openPlayground();
  page = s.page;
  // Every main-thread task over 50 ms, from the start (the test looks at those during training).
  await page.addInitScript(() => {
    const w = window as unknown as { longTasks: { start: number; duration: number }[] };
    w.longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  await open(runHash({ net: SHAPES_NET, data: 'shapes', seed: 1, lr: 0.02, bs: 32 }));
  startLoss = (await state()).lastEval!.loss;
});

afterAll(async () => {
  await s?.close();
});

describe('convkit playground', () => {
  test('loads without errors and trains in a worker on the wasm backend, with threads', async () => {
    expect(s.errors).toEqual([]);
    expect(page.workers().some((w) => w.url().includes('train-worker'))).toBe(true);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const backend = await page.textContent('#backend-info');
    // Threads as the machine has cores (up to 8); one core gives one.
    expect(backend).toMatch(/backend wasm, \d+ threads? \(cross-origin isolated\)/);
  });

  test(`training progresses: ${STEPS} steps on the colour shapes (seed 1) cut the loss and beat chance, and the page never freezes`, async () => {
    const t0 = await page.evaluate(() => performance.now());
    let t1 = 0;
    const tasks = await traceMainThread(page, async () => {
      await page.click('#train');
      await until(`${STEPS} steps`, (st) => (st.stats?.step ?? 0) >= STEPS, 80_000);
      t1 = await page.evaluate(() => performance.now());
    });
    const st = await pause();
    const longTasks = await page.evaluate(
      ([a, b]) => (window as unknown as { longTasks: { start: number; duration: number }[] }).longTasks.filter((t) => t.start >= a! && t.start <= b!),
      [t0, t1],
    );
    // The page never freezes while the worker trains: no main-thread task blocks input for
    // FREEZE_MS of CPU work (RAIL's 100 ms response budget), and every long task over twice that
    // (PerformanceObserver('longtask')) was long only because the OS ran other threads meanwhile
    // (its CPU time is small): on a machine busier than its cores, wall time alone would blame
    // the page for the machine's load. A task's CPU time includes Chromium's paint and commit of
    // the whole page in software (20-50 ms here, the page's own script ~4 ms), so a 50 ms bound
    // measured the machine; a page drawing every view at once takes several times 100 ms.
    const FREEZE_MS = 100;
    const report = JSON.stringify({ longTasks, slowest: [...tasks].sort((a, b) => b.cpuMs - a.cpuMs).slice(0, 5) });
    expect(tasks.length, 'no main-thread tasks were traced').toBeGreaterThan(10);
    expect(tasks.filter((t) => t.cpuMs >= FREEZE_MS), report).toEqual([]);
    for (const long of longTasks.filter((t) => t.duration > 2 * FREEZE_MS)) {
      // The two clocks measure a task slightly differently: match within 10 ms or 10 %.
      const same = tasks.filter((t) => Math.abs(t.wallMs - long.duration) <= Math.max(10, 0.1 * long.duration));
      expect(same.length, `long task of ${long.duration} ms not found in the trace; ${report}`).toBeGreaterThan(0);
      expect(Math.min(...same.map((t) => t.cpuMs)), report).toBeLessThan(FREEZE_MS);
    }
    const trainLoss = Number(await page.textContent('#stat-loss'));
    expect(startLoss).toBeGreaterThan(1.2); // ln 4 = 1.39 at chance
    expect(st.lastEval!.loss).toBeLessThan(0.5 * startLoss);
    expect(trainLoss).toBeLessThan(0.5 * startLoss);
    expect(st.lastEval!.accuracy).toBeGreaterThan(0.6); // chance is 0.25
  });

  test('pause stops the step counter and resume restarts it', async () => {
    const a = (await state()).stats!.step;
    await page.waitForTimeout(800);
    expect((await state()).stats!.step).toBe(a);
    expect(await page.textContent('#stat-step')).toBe(String(a));
    await page.click('#train');
    await until('steps after resuming', (st) => (st.stats?.step ?? 0) > a + 5);
    await pause();
  });

  test('activation, filter and example canvases match the layer shapes and are not blank', async () => {
    const step = (await state()).stats!.step;
    for (const sel of ['.example-panel', '.activations-panel', '.filters-panel', '.histograms-panel']) await shown(sel, step);
    const report = await page.evaluate(() => {
      const variance = (c: HTMLCanvasElement): number => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let sum = 0;
        let sq = 0;
        const n = d.length / 4;
        for (let i = 0; i < d.length; i += 4) {
          const v = d[i]! + d[i + 1]! + d[i + 2]!;
          sum += v;
          sq += v * v;
        }
        return sq / n - (sum / n) ** 2;
      };
      const layers = [...document.querySelectorAll<HTMLElement>('#activations .layer-block')].map((b) => ({
        shape: b.dataset['shape']!.split(',').map(Number),
        canvases: [...b.querySelectorAll('canvas')].map((c) => ({ w: c.width, h: c.height, v: variance(c) })),
      }));
      const grid = (c: HTMLCanvasElement) => ({ ...(c.dataset as Record<string, string>), w: c.width, h: c.height, v: variance(c) });
      const filters = [...document.querySelectorAll<HTMLElement>('#filters .filter-block')].map((b) => ({
        shape: b.dataset['shape']!.split(',').map(Number),
        rgb: b.dataset['rgb'] === '1',
        weights: grid(b.querySelector<HTMLCanvasElement>('canvas[data-kind="weights"]')!),
        grads: grid(b.querySelector<HTMLCanvasElement>('canvas[data-kind="gradients"]')!),
      }));
      const tableRows = document.querySelectorAll('#shape-table tbody tr').length - 1; // less the INPUT row
      return {
        layers,
        filters,
        tableRows,
        example: variance(document.querySelector('#example-image')!),
        saliency: variance(document.querySelector('#saliency')!),
        histograms: document.querySelectorAll('#histograms .hist-row').length,
      };
    });
    expect(report.layers.length).toBe(report.tableRows);
    for (const l of report.layers) {
      if (l.shape.length === 3) {
        const [c, hh, w] = l.shape;
        expect(l.canvases.length).toBe(c);
        for (const cv of l.canvases) expect([cv.w, cv.h]).toEqual([w, hh]);
      } else {
        expect(l.canvases.map((cv) => [cv.w, cv.h])).toEqual([[l.shape[0], 1]]);
      }
      expect(Math.max(...l.canvases.map((cv) => cv.v)), `layer ${l.shape} is blank`).toBeGreaterThan(0);
    }
    expect(report.filters.length).toBe(3);
    report.filters.forEach((f, i) => {
      const [k, c, fh, fw] = f.shape as [number, number, number, number];
      // The first layer sees RGB: one colour tile per filter; the others a row of tiles (one
      // per input channel) per filter. Every weight is a square of `cell` pixels.
      expect(f.rgb).toBe(i === 0 && c === 3);
      for (const g of [f.weights, f.grads]) {
        const [rows, cols, tile, gap, cell] = ['rows', 'cols', 'tile', 'gap', 'cell'].map((key) => Number(field(g, key))) as [number, number, number, number, number];
        if (f.rgb || c === 1) {
          expect(cols).toBe(Math.min(k, 16));
          expect(rows).toBe(Math.ceil(k / cols));
        } else {
          expect([rows, cols]).toEqual([k, c]);
        }
        expect(tile).toBe(Math.max(fh, fw) * cell);
        expect(tile).toBeGreaterThanOrEqual(15); // 3x3 filters enlarged, not hidden
        expect([g.w, g.h]).toEqual([cols * (tile + gap) - gap, rows * (tile + gap) - gap]);
        expect(g.v).toBeGreaterThan(0);
      }
    });
    expect(report.example).toBeGreaterThan(0);
    expect(report.saliency).toBeGreaterThan(0);
    expect(report.histograms).toBe(8); // 4 layers with weights, each weight + bias
  });

  test("the confusion matrix's cells add up to the number of examples evaluated", async () => {
    const st = await state();
    await shown('.confusion-panel', st.lastEval!.step);
    const { cells, caption } = await page.evaluate(() => ({
      cells: [...document.querySelectorAll<HTMLElement>('#confusion td.cell')].map((td) => Number(td.dataset['count'])),
      caption: Number(document.querySelector<HTMLElement>('#confusion-total')!.dataset['count']),
    }));
    expect(cells.length).toBe(16);
    expect(cells.reduce((a, b) => a + b, 0)).toBe(st.lastEval!.count);
    expect(caption).toBe(st.lastEval!.count);
    expect(st.lastEval!.count).toBe(1000);
    // A cell opens its examples.
    const diag = page.locator('#confusion td.cell[data-true="0"][data-predicted="0"]');
    const n = Number(await diag.getAttribute('data-count'));
    await diag.click();
    await page.waitForSelector('#cell-examples canvas');
    expect(await page.locator('#cell-examples canvas').count()).toBe(Math.min(n, 48));
  });

  test('save then load gives identical predictions; the ONNX export computes the same', async () => {
    await shown('.example-panel', (await state()).stats!.step);
    const before = JSON.parse((await page.getAttribute('#example-topk', 'data-probabilities'))!) as number[];
    const download = page.waitForEvent('download');
    await page.click('#model-save');
    const file = await (await download).path();
    await page.setInputFiles('#model-load', file);
    await page.waitForFunction(() => document.querySelector('#model-status')?.textContent?.startsWith('loaded'));
    await until('the loaded model to be shown', (st) => st.ready && st.stats?.step === 0 && st.snapshotStep === 0);
    await shown('.example-panel', 0);
    const after = JSON.parse((await page.getAttribute('#example-topk', 'data-probabilities'))!) as number[];
    expect(after).toEqual(before);
    expect(await page.inputValue('#net-text')).toBe(SHAPES_NET);
    // The ONNX file the page exports computes what the saved convkit model computes.
    const onnxDownload = page.waitForEvent('download');
    await page.click('#model-onnx');
    const onnxFile = await (await onnxDownload).path();
    const saved = ck.io.deserializeModel(readFileSync(file)).model;
    const onnx = ck.io.loadOnnxBytes(readFileSync(onnxFile));
    const x = ck.rand([3, 3, 32, 32], { seed: 5 });
    const [a, b] = ck.noGrad(() => [saved.forward(x).dataSync(), onnx.forward(x).dataSync()]);
    expect(b.length).toBe(12);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-4);
  });

  test("the conv demo's numbers are the dot products of the shown input and filters", async () => {
    const read = () =>
      page.evaluate(() => {
        const num = (el: Element) => Number(el.textContent);
        const cells = (sel: string) => [...document.querySelectorAll<HTMLElement>(sel)].map((td) => ({ ...(td.dataset as Record<string, string>), value: num(td) }));
        const input = document.querySelector<HTMLElement>('#conv-input')!.dataset;
        const filters = document.querySelector<HTMLElement>('#conv-filters')!.dataset;
        return {
          w: Number(input['w']),
          p: Number(input['p']),
          f: Number(filters['f']),
          k: Number(filters['k']),
          s: Number(filters['s']),
          x: cells('#conv-input td'),
          wt: cells('#conv-filters td'),
          bias: [...document.querySelectorAll<HTMLElement>('#conv-filters .bias')].map((b) => Number(b.dataset['bias'])),
          out: cells('#conv-output td'),
          size: Number(document.querySelector<HTMLElement>('#conv-output')!.dataset['size']),
        };
      });
    const check = async () => {
      const d = await read();
      const padded = d.w + 2 * d.p;
      const x = (ch: number, y: number, xx: number) => d.x.find((c) => Number(field(c, 'd')) === ch && Number(field(c, 'y')) === y && Number(field(c, 'x')) === xx)!.value;
      const wt = (k: number, ch: number, y: number, xx: number) => d.wt.find((c) => Number(field(c, 'k')) === k && Number(field(c, 'd')) === ch && Number(field(c, 'y')) === y && Number(field(c, 'x')) === xx)!.value;
      expect(d.x.length).toBe(3 * padded * padded);
      expect(d.size).toBe((d.w - d.f + 2 * d.p) / d.s + 1);
      expect(d.out.length).toBe(d.k * d.size * d.size);
      for (const o of d.out) {
        const [k, oy, ox] = [Number(field(o, 'k')), Number(field(o, 'y')), Number(field(o, 'x'))];
        let sum = d.bias[k]!;
        for (let ch = 0; ch < 3; ch++) for (let i = 0; i < d.f; i++) for (let j = 0; j < d.f; j++) sum += x(ch, oy * d.s + i, ox * d.s + j) * wt(k, ch, i, j);
        expect(o.value, `output [${oy},${ox},${k}]`).toBe(sum);
      }
      return d;
    };
    const d = await check();
    // The notes' setting: 5x5x3 padded to 7x7x3, two 3x3x3 filters, stride 2: 3x3x2.
    expect([d.w, d.p, d.f, d.s, d.k, d.size]).toEqual([5, 1, 3, 2, 2, 3]);
    // Stepping shows each cell's dot product; another seed, other numbers, still right.
    await page.click('#conv-step');
    expect(await page.getAttribute('#conv-dot .dot-total', 'data-value')).toBe(String(d.out.find((o) => field(o, 'k') === '0' && field(o, 'y') === '0' && field(o, 'x') === '1')!.value));
    await page.fill('#conv-seed', '7');
    await page.dispatchEvent('#conv-seed', 'change');
    await check();
    // A stride that does not fit is refused with the arithmetic.
    await page.fill('#conv-S', '3');
    await page.dispatchEvent('#conv-S', 'change');
    expect(await page.isVisible('#conv-error')).toBe(true);
    expect(await page.textContent('#conv-error')).toContain('(5 - 3 + 2*1)/3 + 1');
    expect(await page.isDisabled('#conv-play')).toBe(true);
    await page.fill('#conv-S', '2');
    await page.dispatchEvent('#conv-S', 'change');
    expect(await page.isVisible('#conv-error')).toBe(false);
  });

  test('a stride that does not fit is refused in the editor with its arithmetic, and Train is disabled', async () => {
    const stride = page.locator('#layer-form .layer-row:not(.input-row)').first().locator('input[data-field="stride"]');
    await stride.fill('2');
    await stride.dispatchEvent('change');
    await page.waitForSelector('#net-error:not([hidden])');
    const message = await page.textContent('#net-error');
    expect(message).toContain('(32 - 3 + 2*0)/2 + 1');
    expect(await page.isDisabled('#train')).toBe(true);
    expect(await page.inputValue('#net-text')).toContain('CONV3-8/2');
    // Fixing it re-enables training: an empty stride is the default (stride 1, size-keeping
    // padding); a written 1 would mean CONV3-8/1, padding 0, as the pattern language reads it.
    const again = page.locator('#layer-form .layer-row:not(.input-row)').first().locator('input[data-field="stride"]');
    await again.fill('');
    await again.dispatchEvent('change');
    await until('the fixed network to be set up', (st) => st.ready);
    expect(await page.isVisible('#net-error')).toBe(false);
    await page.waitForSelector('#train:not([disabled])');
  });

  test('reloading the URL restores the network', async () => {
    const net = 'INPUT[32x32x3] -> CONV5-6 -> RELU -> POOL2 -> [CONV3-12 -> RELU]*2 -> POOL2 -> FC4';
    await page.fill('#net-text', net);
    await page.waitForFunction((n) => new URLSearchParams(location.hash.slice(1)).get('net') === n, net);
    await until('the new network to be set up', (st) => st.ready);
    const params = await page.getAttribute('#net-totals', 'data-params');
    await page.reload();
    await until('the worker to be ready again', (st) => st.ready);
    expect(await page.inputValue('#net-text')).toBe(net);
    expect(await page.getAttribute('#net-totals', 'data-params')).toBe(params);
    expect(await page.inputValue('#dataset')).toBe('shapes');
  });

  test('screenshots of the main views (digits) go to docs/', async () => {
    mkdirSync(DOCS, { recursive: true });
    await open(runHash({ net: DIGITS_NET, data: 'digits', seed: 1, bs: 32 }));
    await page.click('#train');
    await until('some training on the digits', (st) => (st.stats?.step ?? 0) >= 120, 60_000);
    await pause();
    // A drawn stroke gets top-k predictions.
    await page.locator('#draw-pad').scrollIntoViewIfNeeded();
    const pad = await page.locator('#draw-pad').boundingBox();
    await page.mouse.move(pad!.x + 112, pad!.y + 40);
    await page.mouse.down();
    await page.mouse.move(pad!.x + 112, pad!.y + 190, { steps: 8 });
    await page.mouse.up();
    await page.waitForSelector('#draw-topk .topk-row');
    const st = await state();
    const shot = async (sel: string, name: string, step?: number) => {
      if (step !== undefined) await shown(sel, step);
      await page.locator(sel).first().screenshot({ path: join(DOCS, name) });
    };
    await page.evaluate(() => window.scrollTo(0, 0));
    await shown('.example-panel', st.stats!.step);
    await page.screenshot({ path: join(DOCS, 'playground.png'), clip: { x: 0, y: 0, width: 1360, height: 900 } });
    await shot('.activations-panel', 'playground-activations.png', st.stats!.step);
    await shot('.filters-panel', 'playground-filters.png', st.stats!.step);
    await shown('.worst-panel', st.lastEval!.step);
    await shot('.confusion-panel', 'playground-confusion.png', st.lastEval!.step);
    await shot('.histograms-panel', 'playground-histograms.png', st.stats!.step);
    await shot('#conv-demo', 'playground-conv-demo.png');
    expect(s.errors).toEqual([]);
  });
});
