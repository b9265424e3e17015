import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CHROMIUM } from './browser.js';
import { buildOpsPage } from './webgpu-ops/build.js';
import type { OpsPage } from './webgpu-ops/page.js';
import type { OpsReport } from './webgpu-ops/runner.js';

/**
 * Every webgpu kernel against the js reference kernel in headless Chromium, on its WebGPU
 * adapter (SwiftShader, given by --enable-unsafe-webgpu; also with --disable-gpu): a page
 * bundled from the sources (webgpu-ops/page.ts) runs a table of shapes per kernel family with
 * the Node kernel tests' tolerances and reports each mismatch with its kernel and case. Without
 * an adapter the test prints one line and skips.
 *
 * The time goes into compiling shaders (SwiftShader JIT-compiles each GEMM tile variant for
 * seconds), so the browser keeps a profile in the temporary folder across runs: Chromium's
 * WebGPU cache there saves part of it on the next run.
 */

const ARGS = ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];
const PROFILE = join(tmpdir(), 'convkit-webgpu-ops-chromium');

let page: string;
let context: BrowserContext;

beforeAll(async () => {
  page = await buildOpsPage();
  context = await chromium.launchPersistentContext(PROFILE, { executablePath: CHROMIUM, headless: true, args: ARGS });
});

afterAll(async () => {
  await context?.close();
  if (page) rmSync(dirname(page), { recursive: true, force: true });
});

describe('webgpu kernels in headless Chromium', () => {
  test('every webgpu kernel matches the js kernel over each family\'s table of shapes', async (ctx) => {
    const tab = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    tab.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console error: ${m.text()}`);
    });
    await tab.goto(pathToFileURL(page).href);
    await tab.waitForFunction(() => 'convkitWebgpuOps' in globalThis, undefined, { timeout: 30_000 });
    const names = await tab.evaluate(() => (globalThis as unknown as { convkitWebgpuOps: OpsPage }).convkitWebgpuOps.kernelNames);
    const result = await tab.evaluate(() => (globalThis as unknown as { convkitWebgpuOps: OpsPage }).convkitWebgpuOps.run());
    if ('skipped' in result) {
      console.log(`webgpu browser tests skipped: Chromium gives no WebGPU adapter (${result.skipped})`);
      ctx.skip();
      return;
    }
    const report: OpsReport = result;
    console.log(
      `webgpu in Chromium (${report.adapter}): ${report.comparisons} comparisons over ${report.exercised.length} kernels in ${(report.ms / 1000).toFixed(1)} s; ` +
        `slowest cases: ${report.slowest.slice(0, 3).map((s) => `${s.kernel} ${s.case} ${s.ms} ms`).join('; ')}`,
    );
    expect(names.length).toBeGreaterThanOrEqual(47);
    expect(report.mismatches.map((m) => `${m.kernel} | ${m.case} | ${m.message}`)).toEqual([]);
    expect(names.filter((n) => !report.exercised.includes(n)), 'kernels never compared').toEqual([]);
    expect(errors).toEqual([]);
  }, 300_000);
});
