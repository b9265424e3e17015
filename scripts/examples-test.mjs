// npm run test:examples: runs every example of examples/ the way a user would, against the
// packed package installed into a fresh folder outside the repository (scripts/lib/packed.mjs):
// train-folder.mjs on a tiny generated image folder (1 epoch), predict-image.mjs with the model
// it saved, onnx-roundtrip.mjs, and the browser example built by Vite and trained (1 epoch) in
// a Web Worker in headless Chromium, with and without cross-origin isolation. Without Chromium
// at /usr/bin/chromium the browser part is skipped with a message (a failure with CI=1).
// KEEP=1 keeps the folder.
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM, CHROMIUM_ARGS, CI, ensureBuilt, npmInstall, packInto, root, run, serve, timedLog, scratchDir } from './lib/packed.mjs';

const log = timedLog();
const failures = [];
ensureBuilt(log);
const work = scratchDir('convkit-examples-');
const app = join(work, 'app');
mkdirSync(app);
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'examples', private: true, type: 'module' }, null, 2));
log(`npm pack and install into ${app} (with vite for the browser example)`);
await npmInstall(app, [await packInto(work), 'vite@7']);
cpSync(join(root, 'examples'), join(app, 'examples'), { recursive: true });

async function example(what, args, expect) {
  const t = Date.now();
  try {
    const { stdout } = await run(process.execPath, args, { cwd: app });
    const bad = expect.filter((re) => !re.test(stdout));
    if (bad.length > 0) failures.push(`${what}: output lacks ${bad.join(', ')}:\n${stdout}`);
    else log(`ok: ${what} (${((Date.now() - t) / 1000).toFixed(1)} s)\n      ${stdout.trim().split('\n').join('\n      ')}`);
  } catch (e) {
    failures.push(`${what}: exit ${e.code}\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`);
  }
}

// A tiny image folder: two classes of 8 PNGs each (dark and light squares with noise), written
// by the installed package itself.
writeFileSync(
  join(app, 'make-folder.mjs'),
  `import * as ck from 'convkit/node';
const g = new ck.Generator(5);
for (const [label, base] of [['dark', 0.2], ['light', 0.8]]) {
  for (let i = 0; i < 8; i++) {
    const x = new Float32Array(3 * 20 * 20).map(() => Math.min(1, Math.max(0, base + 0.2 * (g.uniform() - 0.5))));
    await ck.data.image.writeImage(\`photos/\${label}/\${i}.png\`, ck.tensor(x, [3, 20, 20]));
  }
}
`,
);
await run(process.execPath, ['make-folder.mjs'], { cwd: app });

await example('train-folder.mjs', ['examples/train-folder.mjs', 'photos', '--epochs', '1', '--size', '16', '--out', 'model.convkit'], [/2 classes: dark, light/, /epoch 1\/1/, /saved model\.convkit/]);
await example('predict-image.mjs', ['examples/predict-image.mjs', 'model.convkit', 'photos/light/3.png', '--top', '2'], [/^(dark|light): \d+\.\d%$/m]);
await example('onnx-roundtrip.mjs', ['examples/onnx-roundtrip.mjs'], [/exported LeNet-5/, /largest difference/]);

// ---- the browser example: vite build, then one epoch in headless Chromium
const page = join(app, 'examples', 'browser');
if (!existsSync(CHROMIUM)) {
  if (CI) failures.push(`browser example: no Chromium at ${CHROMIUM}`);
  else log(`browser example skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium; CI=1 makes this a failure)`);
} else {
  try {
    // The example's own package.json names convkit and vite; here both come from the folder above.
    rmSync(join(page, 'package.json'));
    await run(join(app, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], { cwd: page });
    log('browser example: vite build done');
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      for (const isolated of [true, false]) {
        const server = await serve(join(page, 'dist'), isolated);
        const tab = await browser.newPage();
        const errors = [];
        tab.on('pageerror', (e) => errors.push(e.message));
        try {
          await tab.goto(`http://127.0.0.1:${server.address().port}/?epochs=1`);
          await tab.waitForFunction(() => window.__result, null, { timeout: 120_000 });
          const r = await tab.evaluate(() => window.__result);
          const label = isolated ? 'COOP/COEP' : 'no COOP/COEP';
          if (r.error || errors.length > 0) failures.push(`browser example (${label}): ${r.error ?? errors.join('; ')}`);
          else if (!(r.losses.length === 1 && Number.isFinite(r.losses[0]) && r.accuracy >= 0 && r.accuracy <= 1)) failures.push(`browser example (${label}): odd result ${JSON.stringify(r)}`);
          else if (r.threads !== isolated) failures.push(`browser example (${label}): threads ${r.threads}`);
          else log(`ok: browser example (${label}): ${r.backend} backend, loss ${r.losses[0].toFixed(3)}, held-out accuracy ${(100 * r.accuracy).toFixed(1)}%`);
        } finally {
          await tab.close();
          server.close();
        }
      }
    } finally {
      await browser.close();
    }
  } catch (e) {
    failures.push(`browser example: ${e.stderr ?? e.message}`);
  }
}

if (failures.length > 0) {
  console.log(`\ntest:examples: ${failures.length} failure(s)`);
  for (const f of failures) console.log(`- ${f}`);
  process.exit(1);
}
log('test:examples passed');
