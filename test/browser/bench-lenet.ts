/**
 * LeNet-5 training speed in the playground, in headless Chromium (`node scripts/playground-bench.mjs`,
 * never part of a test run): the digits, batch 64, SGD with momentum, the page's views live.
 * Reports the training rate the page shows (images/s over the last second of steps) and the
 * end-to-end rate (steps x batch over wall time, views and validation included), and, when
 * ConvNetJS is installed as a peer ($PEERS/node_modules/convnetjs, see bench/peers/README.md), times
 * ConvNetJS's own Trainer on the same network in the same browser for the ratio.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { openPlayground, runHash } from './browser.js';

const LENET5 = 'INPUT[28x28x1] -> CONV5-6 -> RELU -> POOL2 -> CONV5-16p0 -> RELU -> POOL2 -> FC120 -> RELU -> FC84 -> RELU -> FC10';
const BATCH = 64;
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 20);
const peers = process.env['PEERS'] ?? '/tmp/peers';

interface Stats {
  step: number;
  imagesPerSecond: number;
  wallImagesPerSecond: number;
  forwardMs: number;
  backwardMs: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;

async function main(): Promise<void> {
  const s = await openPlayground();
  const { page } = s;
  const stats = () => page.evaluate(() => (window as unknown as { convkitPlayground: { stats: Stats | null } }).convkitPlayground.stats);
  try {
    await page.goto(`${s.server.url}${runHash({ net: LENET5, data: 'digits', seed: 1, lr: 0.01, mom: 0.9, bs: BATCH, wd: 0.0005 })}`);
    await page.waitForFunction(() => (window as unknown as { convkitPlayground?: { ready: boolean } }).convkitPlayground?.ready === true, null, { timeout: 60_000 });
    const backend = await page.textContent('#backend-info');
    const version = s.context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent));
    await page.click('#train');
    // With BENCH_SCROLL=bottom the views are off screen (not drawn): the page's own cost aside.
    if (process.env['BENCH_SCROLL'] === 'bottom') await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.waitForTimeout(3000); // warm-up: the wasm threads start, the first epoch's buffers grow
    const first = (await stats())!;
    const t0 = Date.now();
    const rates: number[] = [];
    const fwd: number[] = [];
    const bwd: number[] = [];
    while (Date.now() - t0 < SECONDS * 1000) {
      await page.waitForTimeout(500);
      const st = (await stats())!;
      rates.push(st.imagesPerSecond);
      fwd.push(st.forwardMs);
      bwd.push(st.backwardMs);
    }
    const last = (await stats())!;
    const endToEnd = ((last.step - first.step) * BATCH) / ((Date.now() - t0) / 1000);
    await page.click('#train');
    let convnetjs: number | null = null;
    const lib = join(peers, 'node_modules', 'convnetjs', 'build', 'convnet.js');
    if (existsSync(lib)) {
      // The same network with ConvNetJS's own Trainer, on the main thread of a blank page.
      await page.goto('about:blank');
      await page.addScriptTag({ content: readFileSync(lib, 'utf8') });
      convnetjs = await page.evaluate((seconds) => {
        type Vol = unknown;
        const cj = (window as unknown as { convnetjs: { Net: new () => { makeLayers(d: unknown[]): void }; Vol: new (x: number, y: number, d: number) => Vol; Trainer: new (n: unknown, o: unknown) => { train(x: Vol, y: number): void } } }).convnetjs;
        const net = new cj.Net();
        net.makeLayers([
          { type: 'input', out_sx: 28, out_sy: 28, out_depth: 1 },
          { type: 'conv', sx: 5, filters: 6, stride: 1, pad: 2, activation: 'relu' },
          { type: 'pool', sx: 2, stride: 2 },
          { type: 'conv', sx: 5, filters: 16, stride: 1, pad: 0, activation: 'relu' },
          { type: 'pool', sx: 2, stride: 2 },
          { type: 'fc', num_neurons: 120, activation: 'relu' },
          { type: 'fc', num_neurons: 84, activation: 'relu' },
          { type: 'softmax', num_classes: 10 },
        ]);
        const xs = Array.from({ length: 64 }, () => new cj.Vol(28, 28, 1));
        const tr = new cj.Trainer(net, { method: 'sgd', learning_rate: 0.01, momentum: 0.9, batch_size: 64, l2_decay: 0 });
        const t = performance.now();
        let n = 0;
        while (performance.now() - t < seconds * 1000) {
          xs.forEach((x, i) => tr.train(x, i % 10));
          n += xs.length;
        }
        return n / ((performance.now() - t) / 1000);
      }, Math.min(SECONDS, 10));
    }
    const result = {
      chromium: version,
      backend,
      cores: cpus().length,
      cpu: cpus()[0]?.model ?? '?',
      loadAverage: loadavg()[0],
      batch: BATCH,
      seconds: SECONDS,
      trainingImagesPerSecond: Math.round(median(rates)),
      bestImagesPerSecond: Math.round(Math.max(...rates)),
      endToEndImagesPerSecond: Math.round(endToEnd),
      forwardMs: Number(median(fwd).toFixed(1)),
      backwardMs: Number(median(bwd).toFixed(1)),
      convnetjsImagesPerSecond: convnetjs === null ? null : Math.round(convnetjs),
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await s.close();
  }
}

await main();
