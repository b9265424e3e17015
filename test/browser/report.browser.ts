import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureBuilt, runCli } from '../cli/cli-helpers.js';
import { CHROMIUM } from './browser.js';

/**
 * The training report (`convkit train` writes <out>/report.html, `convkit report <out>`
 * rebuilds it) opened from disk in headless Chromium with every request other than the file
 * itself refused: no console errors, charts and images actually drawn (canvas pixels read
 * back), and a confusion matrix whose cells sum to the test-set size. CONVKIT_REPORT_SCREENSHOT=<file.png>
 * saves the page's first screen.
 */

const TEST_SIZE = 300;

let out: string;
let browser: Browser;

beforeAll(async () => {
  await ensureBuilt();
  out = mkdtempSync(join(tmpdir(), 'convkit-report-'));
  const r = await runCli(['train', '--epochs', '2', '--train-size', '600', '--test-size', String(TEST_SIZE), '--out', out]);
  if (r.code !== 0) throw new Error(`convkit train failed: ${r.stderr}`);
  expect(r.stdout).toContain(`report ${join(out, 'report.html')}`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

/** What the page shows, read in the page. */
interface PageFacts {
  ready: boolean;
  charts: number;
  /** Per uPlot canvas: painted pixels, and pixels of each series' colour. */
  chartCanvases: { painted: number; colours: Record<string, number> }[];
  /** Per worst-image / filter canvas: distinct grey levels (or colours) and non-black pixels. */
  worst: { distinct: number; lit: number; opaque: boolean }[];
  filters: { distinct: number; opaque: boolean }[];
  cells: { row: number; col: number; count: number; text: string }[];
  total: number;
  jsonTotal: number;
  perClassRows: number;
}

async function open(file: string, screenshot?: string): Promise<{ facts: PageFacts; errors: string[]; requests: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console error: ${m.text()}`);
  });
  // The page must need nothing but itself: any other request is refused and recorded.
  const url = pathToFileURL(file).href;
  await page.route('**/*', (route) => {
    const u = route.request().url();
    if (u === url) return route.continue();
    requests.push(u);
    return route.abort();
  });
  await page.goto(url);
  await page
    .waitForFunction(() => (window as unknown as { convkitReport?: { ready: boolean } }).convkitReport?.ready === true, undefined, { timeout: 15_000 })
    .catch((e: Error) => {
      throw new Error(`the page never finished drawing: ${[...errors, ...requests.map((u) => `refused request ${u}`)].join('; ') || e.message}`);
    });
  const facts = await page.evaluate((): PageFacts => {
    const SERIES: Record<string, [number, number, number]> = { blue: [31, 119, 180], orange: [255, 127, 14], green: [44, 160, 44] };
    const pixels = (c: HTMLCanvasElement) => c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const chartCanvases = [...document.querySelectorAll<HTMLCanvasElement>('.uplot canvas')].map((c) => {
      const px = pixels(c);
      let painted = 0;
      const colours: Record<string, number> = { blue: 0, orange: 0, green: 0 };
      for (let i = 0; i < px.length; i += 4) {
        if (px[i + 3]! === 0) continue;
        painted++;
        for (const [name, rgb] of Object.entries(SERIES)) {
          if (px[i + 3]! > 200 && rgb.every((v, k) => Math.abs(px[i + k]! - v) < 40)) colours[name]!++;
        }
      }
      return { painted, colours };
    });
    const look = (c: HTMLCanvasElement) => {
      const px = pixels(c);
      const seen = new Set<number>();
      let lit = 0;
      let opaque = true;
      for (let i = 0; i < px.length; i += 4) {
        seen.add((px[i]! << 16) | (px[i + 1]! << 8) | px[i + 2]!);
        if (px[i]! + px[i + 1]! + px[i + 2]! > 0) lit++;
        if (px[i + 3] !== 255) opaque = false;
      }
      return { distinct: seen.size, lit, opaque };
    };
    const state = (window as unknown as { convkitReport: { ready: boolean; charts: number } }).convkitReport;
    const table = document.getElementById('confusion')!;
    const json = JSON.parse(document.getElementById('report-data')!.textContent!) as { confusion: number[][] };
    return {
      ready: state.ready,
      charts: state.charts,
      chartCanvases,
      worst: [...document.querySelectorAll<HTMLCanvasElement>('canvas.worst-image')].map(look),
      filters: [...document.querySelectorAll<HTMLCanvasElement>('canvas.filter')].map((c) => {
        const { distinct, opaque } = look(c);
        return { distinct, opaque };
      }),
      cells: [...table.querySelectorAll<HTMLElement>('td[data-count]')].map((td) => ({
        row: Number(td.dataset['row']),
        col: Number(td.dataset['col']),
        count: Number(td.dataset['count']),
        text: td.textContent ?? '',
      })),
      total: Number(table.dataset['total']),
      jsonTotal: json.confusion.flat().reduce((a, b) => a + b, 0),
      perClassRows: document.querySelectorAll('#per-class tr').length,
    };
  });
  if (screenshot) await page.screenshot({ path: screenshot });
  await page.close();
  return { facts, errors, requests };
}

function expectDrawn(r: Awaited<ReturnType<typeof open>>): void {
  const { facts } = r;
  expect(r.errors).toEqual([]);
  expect(r.requests).toEqual([]);
  expect(facts.ready).toBe(true);
  // Loss, accuracy and learning rate, each with its series drawn in its own colour.
  expect(facts.charts).toBe(3);
  expect(facts.chartCanvases).toHaveLength(3);
  const [loss, accuracy, lr] = facts.chartCanvases as [PageFacts['chartCanvases'][0], PageFacts['chartCanvases'][0], PageFacts['chartCanvases'][0]];
  for (const c of [loss, accuracy, lr]) expect(c.painted).toBeGreaterThan(500);
  for (const c of [loss, accuracy]) {
    expect(c.colours['blue'], 'train series').toBeGreaterThan(20);
    expect(c.colours['orange'], 'validation series').toBeGreaterThan(20);
  }
  expect(lr.colours['green'], 'learning-rate series').toBeGreaterThan(20);
  // 24 worst images of a digit: several grey levels, strokes lit, every pixel drawn.
  expect(facts.worst).toHaveLength(24);
  for (const w of facts.worst) {
    expect(w.opaque).toBe(true);
    expect(w.distinct).toBeGreaterThan(3);
    expect(w.lit).toBeGreaterThan(20);
  }
  // LeNet-5's first layer: 6 filters of 5x5, each scaled to its own range.
  expect(facts.filters).toHaveLength(6);
  for (const f of facts.filters) {
    expect(f.opaque).toBe(true);
    expect(f.distinct).toBeGreaterThan(5);
  }
  // 10 x 10 cells whose counts (attributes and text) sum to the test-set size.
  expect(facts.cells).toHaveLength(100);
  for (const c of facts.cells) expect(c.text).toBe(c.count ? String(c.count) : '');
  expect(facts.cells.reduce((s, c) => s + c.count, 0)).toBe(TEST_SIZE);
  expect(facts.total).toBe(TEST_SIZE);
  expect(facts.jsonTotal).toBe(TEST_SIZE);
  expect(facts.cells.filter((c) => c.row === c.col).reduce((s, c) => s + c.count, 0)).toBeGreaterThan(TEST_SIZE / 4);
  expect(facts.perClassRows).toBe(10);
}

describe('training report in Chromium', () => {
  test('the report train wrote opens offline, without errors, with its charts, images and confusion matrix drawn', async () => {
    expectDrawn(await open(join(out, 'report.html'), process.env['CONVKIT_REPORT_SCREENSHOT']));
  });

  test('convkit report rebuilds a page that passes the same checks', async () => {
    rmSync(join(out, 'report.html'));
    const r = await runCli(['report', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`on ${TEST_SIZE} images, 2 epochs\\)`));
    expectDrawn(await open(join(out, 'report.html')));
  });
});
