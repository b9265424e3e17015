import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openPlayground, runHash, shown as shownIn, type Session } from './browser.js';

/**
 * The playground on the webgpu backend, in headless Chromium on its software adapter
 * (SwiftShader, `--enable-unsafe-webgpu`): the backend selector offers webgpu once the worker has
 * an adapter, the status line names it, the untrained network computes what it computes on wasm
 * (validation loss and the example's probabilities, from the same seed), training runs a few
 * steps in the worker, and every view shows the step it paused at, with no console errors.
 * Without an adapter the tests say so in one line and skip. SwiftShader is slow (a validation
 * pass of 1000 images takes tens of seconds here), hence a small network and long timeouts.
 */

const NET = 'INPUT[28x28x1] -> CONV3-4 -> RELU -> POOL2 -> CONV3-4 -> RELU -> FC10';
const RUN = { net: NET, data: 'digits', seed: 3, lr: 0.05, bs: 16 };
const SLOW = 300_000;

interface PageState {
  ready: boolean;
  stats: { step: number; running: boolean } | null;
  lastEval: { step: number; count: number; accuracy: number; loss: number; confusionTotal: number } | null;
  snapshotStep: number | null;
  backend: { name: string; adapter?: string; fallback?: string } | null;
  webgpu: { adapter: string | null; problem: string | null } | null;
  error: string | null;
}

let s: Session;
let page: Page;
/** Why webgpu cannot run here (null when it can). */
let noAdapter: string | null = null;

const state = (): Promise<PageState> => page.evaluate(() => (window as unknown as { convkitPlayground: PageState }).convkitPlayground);

async function until(what: string, check: (st: PageState) => boolean, timeout = SLOW): Promise<PageState> {
  const start = Date.now();
  for (;;) {
    const st = await state();
    if (st?.error) throw new Error(`the page reported: ${st.error}`);
    if (st && check(st)) return st;
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}; state: ${JSON.stringify(st)}`);
    await page.waitForTimeout(200);
  }
}

async function open(hash: string): Promise<PageState> {
  await page.goto('about:blank');
  await page.goto(`${s.server.url}${hash}`);
  return until('the worker to be ready', (st) => st.ready && st.snapshotStep === 0 && st.lastEval?.step === 0);
}

const probabilities = async (): Promise<number[]> => JSON.parse((await page.getAttribute('#example-topk', 'data-probabilities'))!) as number[];

/** A view shows `step` (browser.ts); a software GPU gets 20 s per part. */
const shown = (selector: string, step: number): Promise<void> => shownIn(page, selector, step, 20_000);

/** Canvases of a view that are not blank (some variance in their pixels), out of all of them. */
const drawn = (selector: string): Promise<{ all: number; drawn: number }> =>
  page.evaluate((sel) => {
    const canvases = [...document.querySelectorAll<HTMLCanvasElement>(`${sel} canvas`)];
    const varies = (c: HTMLCanvasElement): boolean => {
      if (c.width === 0 || c.height === 0) return false;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      for (let i = 4; i < d.length; i += 4) if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) return true;
      return false;
    };
    return { all: canvases.length, drawn: canvases.filter(varies).length };
  }, selector);

beforeAll(async () => {
  s = await openPlayground();
  page = s.page;
  // The reference: the same run on wasm, untrained.
  await open(runHash(RUN));
  const st = await until('the WebGPU probe', (x) => x.webgpu !== null, 60_000);
  if (st.webgpu!.adapter === null) {
    noAdapter = st.webgpu!.problem ?? 'no adapter';
    console.log(`playground webgpu tests skipped: headless Chromium gives no WebGPU adapter here (${noAdapter})`);
  }
}, SLOW);

afterAll(async () => {
  await s?.close();
});

describe('convkit playground on webgpu', () => {
  let wasmLoss = 0;
  let wasmProbabilities: number[] = [];

  test('the selector offers webgpu once the worker has an adapter', async (ctx) => {
    if (noAdapter !== null) return ctx.skip();
    await page.waitForSelector('#backend option[value="webgpu"]:not([disabled])', { state: 'attached' });
    expect(await page.inputValue('#backend')).toBe('wasm');
    const st = await state();
    expect(st.backend?.name).toBe('wasm');
    wasmLoss = st.lastEval!.loss;
    await shown('.example-panel', 0);
    wasmProbabilities = await probabilities();
  });

  test(
    'choosing webgpu restarts the run on the GPU: the status line names the adapter, and the untrained network computes what it does on wasm',
    async (ctx) => {
      if (noAdapter !== null) return ctx.skip();
      await page.locator('#backend').selectOption('webgpu');
      const st = await until('the run on webgpu', (x) => x.ready && x.backend?.name === 'webgpu' && x.snapshotStep === 0 && x.lastEval?.step === 0);
      expect(st.backend!.fallback).toBeUndefined();
      expect(await page.textContent('#backend-info')).toMatch(new RegExp(`^backend webgpu on ${st.webgpu!.adapter!} · [\\d,]+ parameters$`));
      // The choice is in the address bar, so a reload (or a shared link) keeps it.
      expect(new URLSearchParams(await page.evaluate(() => location.hash.slice(1))).get('backend')).toBe('webgpu');
      // Same seed, same weights, same 1000 validation images: the same loss to float32 rounding.
      expect(st.lastEval!.count).toBe(1000);
      expect(Math.abs(st.lastEval!.loss - wasmLoss)).toBeLessThan(1e-4 * wasmLoss);
      await shown('.example-panel', 0);
      const p = await probabilities();
      expect(p.length).toBe(wasmProbabilities.length);
      p.forEach((v, i) => expect(Math.abs(v - wasmProbabilities[i]!), `probability ${i}`).toBeLessThan(1e-5));
    },
    SLOW,
  );

  test(
    'it trains a few steps in the worker, and every view shows the step it paused at',
    async (ctx) => {
      if (noAdapter !== null) return ctx.skip();
      await page.click('#train');
      await until('a few steps on webgpu', (x) => (x.stats?.step ?? 0) >= 6);
      await page.click('#train');
      const st = await until('the pause to settle', (x) => x.stats?.running === false && x.snapshotStep === x.stats.step && x.lastEval?.step === x.stats.step);
      const step = st.stats!.step;
      expect(step).toBeGreaterThanOrEqual(6);
      expect(st.backend!.name).toBe('webgpu');
      expect(Number.isFinite(st.lastEval!.loss)).toBe(true);
      expect(st.lastEval!.confusionTotal).toBe(st.lastEval!.count);
      // The readouts: a finite training loss; forward/backward ms are not measured on the GPU.
      expect(Number.isFinite(Number(await page.textContent('#stat-loss')))).toBe(true);
      expect(await page.textContent('#stat-fwd')).toBe('–');
      expect(Number(await page.textContent('#stat-ips'))).toBeGreaterThan(0);
      for (const sel of ['.example-panel', '.activations-panel', '.filters-panel', '.histograms-panel']) await shown(sel, step);
      for (const sel of ['.confusion-panel', '.worst-panel']) await shown(sel, st.lastEval!.step);
      // A block per layer (as the shape table lists them, less its INPUT row), most of their canvases not blank.
      expect(await page.locator('#activations .layer-block').count()).toBe((await page.locator('#shape-table tbody tr').count()) - 1);
      const activations = await drawn('#activations .layer-block');
      expect(activations.all).toBeGreaterThanOrEqual(4 + 4 + 4 + 4 + 4 + 1);
      expect(activations.drawn).toBeGreaterThan(activations.all / 2);
      const filters = await drawn('#filters .filter-block');
      expect(filters).toEqual({ all: 4, drawn: 4 }); // weights and gradients of both CONV layers
      expect(await page.locator('#histograms .hist-row').count()).toBe(6); // 3 layers with weights, each weight + bias
      expect((await drawn('.example-panel')).drawn).toBeGreaterThan(0);
      // A drawn digit gets predictions from the model on the GPU.
      await page.locator('#draw-pad').scrollIntoViewIfNeeded();
      const pad = (await page.locator('#draw-pad').boundingBox())!;
      await page.mouse.move(pad.x + 112, pad.y + 40);
      await page.mouse.down();
      await page.mouse.move(pad.x + 112, pad.y + 190, { steps: 8 });
      await page.mouse.up();
      await page.waitForSelector('#draw-topk .topk-row', { timeout: 60_000 });
      expect(s.errors).toEqual([]);
    },
    SLOW,
  );
});
