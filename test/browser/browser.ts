import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { servePlayground, type PlaygroundServer } from '../../src/cli/commands/playground.js';

/**
 * Headless Chromium (Debian's package; playwright-core downloads no browser) on the built
 * playground, served by `convkit playground`'s own server on 127.0.0.1. The flags keep
 * Chromium off the network, which this closed machine refuses anyway.
 */

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  // WebGPU on Chromium's software adapter (SwiftShader), for the playground's webgpu backend.
  '--enable-unsafe-webgpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Session {
  server: PlaygroundServer;
  context: BrowserContext;
  page: Page;
  /** Page errors and console errors seen so far. */
  errors: string[];
  close(): Promise<void>;
}

export async function openPlayground(opts: { width?: number; height?: number } = {}): Promise<Session> {
  const server = await servePlayground({ port: 0 });
  const profile = mkdtempSync(join(tmpdir(), 'convkit-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: opts.width ?? 1360, height: opts.height ?? 900 },
    acceptDownloads: true,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console error: ${m.text()}`);
  });
  return {
    server,
    context,
    page,
    errors,
    async close() {
      await context.close();
      await server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The playground's URL fragment for a run (as state/url-state.ts writes it). */
export function runHash(run: { net: string; data: string; seed: number; opt?: string; lr?: number; mom?: number; bs?: number; wd?: number }): string {
  const p = new URLSearchParams({
    net: run.net,
    data: run.data,
    seed: String(run.seed),
    opt: run.opt ?? 'sgd',
    lr: String(run.lr ?? 0.01),
    mom: String(run.mom ?? 0.9),
    bs: String(run.bs ?? 32),
    wd: String(run.wd ?? 0.0005),
  });
  return `#${p.toString()}`;
}

export interface MainThreadTask {
  /** Wall-clock duration, as a long task would report it. */
  wallMs: number;
  /** CPU time of the page's main thread in that task (wall time minus time the OS ran others). */
  cpuMs: number;
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/**
 * The page's main-thread tasks while `fn` runs, from a Chrome trace: each task's wall time and
 * its CPU time. On a busy machine a task can last long only because the OS ran other threads
 * (the training threads among them); the CPU time tells that apart from the page's own work.
 */
export async function traceMainThread(page: Page, fn: () => Promise<void>): Promise<MainThreadTask[]> {
  const cdp = await page.context().newCDPSession(page);
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...(e.value as unknown as TraceEvent[])));
  const complete = new Promise<void>((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()));
  await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline', transferMode: 'ReportEvents' });
  try {
    await fn();
  } finally {
    await cdp.send('Tracing.end');
    await complete;
    await cdp.detach();
  }
  // The busiest renderer main thread is the page's (an about:blank renderer may be there too).
  const mains = events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  const tasksOf = (m: TraceEvent) => events.filter((e) => e.pid === m.pid && e.tid === m.tid && e.ph === 'X' && e.name === 'RunTask');
  const busiest = mains.map(tasksOf).sort((a, b) => b.reduce((s, e) => s + (e.dur ?? 0), 0) - a.reduce((s, e) => s + (e.dur ?? 0), 0))[0] ?? [];
  return busiest.map((e) => ({ wallMs: (e.dur ?? 0) / 1000, cpuMs: (e.tdur ?? e.dur ?? 0) / 1000 }));
}

/**
 * Scrolls a view into sight (views off screen are not drawn) and waits until it shows `step`:
 * the view and every part of it that is drawn on its own (elements with data-step), each
 * scrolled into sight in turn; each part has `timeoutMs` to get there.
 */
export async function shown(page: Page, selector: string, step: number, timeoutMs = 10_000): Promise<void> {
  await page.locator(selector).first().scrollIntoViewIfNeeded();
  const ok = await page.evaluate(
    async ([sel, st, limit]) => {
      const el = document.querySelector(sel as string) as HTMLElement | null;
      if (!el) return false;
      const parts = [el, ...el.querySelectorAll<HTMLElement>('[data-step]')].filter((e) => e.dataset['step'] !== undefined);
      const frame = () => new Promise((r) => requestAnimationFrame(() => r(null)));
      for (const part of parts) {
        const t0 = performance.now();
        if (part.dataset['step'] !== String(st)) part.scrollIntoView({ block: 'center' });
        while (part.dataset['step'] !== String(st)) {
          if (performance.now() - t0 > (limit as number)) return false;
          await frame();
        }
      }
      return parts.length > 0;
    },
    [selector, step, timeoutMs] as const,
  );
  expect(ok, `${selector} did not show step ${step}`).toBe(true);
}
