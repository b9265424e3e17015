// npm run test:bundlers: convkit as a web developer gets it. Packs the project (npm pack),
// installs the tarball into fresh folders outside the repository, and builds three apps with
// stock bundlers and their default settings: Vite 7 (`vite build`, no config file), esbuild
// (`--bundle --format=esm --platform=browser`) and webpack 5 (`webpack --mode production`, no
// config file). Each trains LeNet-5 for a few steps in a Web Worker in headless Chromium, once
// on a cross-origin isolated page (COOP/COEP: wasm threads) and once without (one thread),
// with no page or console errors and no bundler warnings, and fetches a convkit model file and
// an ONNX file (made in Node from the same package) on its main thread and predicts. Then the
// size budget: what a page importing only tensors, layers and training downloads (README, "In
// your web app"), and no ONNX or image code in any app's training worker.
//
// Needs the npm registry (or npm's cache) for the bundlers and Chromium at /usr/bin/chromium
// (skipped with a message without it, unless CI=1). KEEP=1 keeps the temporary folder.
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CHROMIUM, CHROMIUM_ARGS, CI, cleanEnv, ensureBuilt, npmInstall, packInto, root, run, serve, timedLog, scratchDir } from './lib/packed.mjs';

const APP = join(root, 'test', 'bundlers', 'app');

/** The bundlers, as a user would install them today. */
const TOOLS = { vite: ['vite@7'], esbuild: ['esbuild@0'], webpack: ['webpack@5', 'webpack-cli@6'] };

/**
 * The size budget for a page that imports only tensors, layers and training (train-worker.js
 * bundled by esbuild --minify, plus the page script), gzip at zlib's default level, and for
 * each of the four wasm kernel builds (a page fetches one). Measured sizes are in the README.
 */
// wasm: 160 kB until the second wave's kernels (batch norm in chunks, Winograd in blocks of
// images, the 6x8 GEMM, small-product FC kernels) took each build to ~162 kB (48.6 kB gzipped);
// 170 kB until GELU ran in wasm (its erf and the tanh form's sigmoids: 169.3 -> 171.4 kB for the
// largest build; F.gelu 182 ms -> a few ms on 1.6M elements, where the js formula was the cost
// of a ConvNeXt-style network's activations);
// JS: 225 kB / 76 kB until ck.optim gained ReduceLROnPlateau and LinearWarmup (~226 kB / 75.9 kB);
// 228 kB / 77 kB until tensors could live on a device (storages, the ops' and optimizers' device
// paths, the Trainer's deferred reads) and the pointwise declarations gained their WGSL formulas
// (236.0 kB / 79.5 kB); 240 kB / 81 kB until the few-filter convolution paths (channel chunks),
// the FC tiling, dropout's branch-free mask and GELU's erf series and wasm code (239.8 kB / 81.1 kB).
// The webgpu kernels themselves are in convkit/webgpu, not counted here.
const BUDGET = { jsGzip: 82_000, jsRaw: 244_000, wasmRaw: 172_000 };
const STEPS = 12;

const log = timedLog();
const failures = [];
const fail = (msg) => {
  failures.push(msg);
  console.log(`  FAIL ${msg}`);
};

if (!existsSync(CHROMIUM)) {
  if (!CI) {
    console.log(`test:bundlers skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium; CI=1 makes this a failure)`);
    process.exit(0);
  }
  throw new Error(`test:bundlers: no Chromium at ${CHROMIUM}`);
}
const { chromium } = await import('playwright-core');

ensureBuilt(log);

const work = scratchDir('convkit-bundlers-');

log(`npm pack into ${work}`);
const tarball = await packInto(work);

// ---- the three apps: fresh folders, nothing from the repository but the tarball and app sources
const html = (scripts) =>
  `<!doctype html>\n<html><head><meta charset="utf-8"><title>convkit app</title><link rel="icon" href="data:,"></head>\n` +
  `<body>\n<pre id="train"></pre>\n<pre id="predict"></pre>\n${scripts}\n</body></html>\n`;
const moduleScripts = (prefix) => ['train-page.js', 'predict.js'].map((f) => `<script type="module" src="${prefix}${f}"></script>`).join('\n');

function writeApp(name) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `${name}-app`, private: true, type: 'module' }, null, 2));
  const src = name === 'webpack' ? join(dir, 'src') : dir;
  mkdirSync(src, { recursive: true });
  for (const f of ['train-worker.js', 'train-page.js', 'predict.js']) copyFileSync(join(APP, f), join(src, f));
  // webpack's default entry is src/index.js; Vite's is index.html.
  if (name === 'webpack') writeFileSync(join(src, 'index.js'), "import './train-page.js';\nimport './predict.js';\n");
  if (name === 'vite') {
    copyFileSync(join(APP, 'make-models.mjs'), join(dir, 'make-models.mjs'));
    writeFileSync(join(dir, 'index.html'), html(moduleScripts('/')));
  }
  return dir;
}

const apps = Object.fromEntries(Object.keys(TOOLS).map((name) => [name, writeApp(name)]));
log('npm install the tarball and the bundlers (three folders, in parallel)');
await Promise.all(
  Object.entries(TOOLS).map(([name, tools]) =>
    npmInstall(apps[name], [tarball, ...tools]),
  ),
);

// ---- builds, default settings; every warning is a failure except webpack's size hints
const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');
async function build(name, cmd, args) {
  const t = Date.now();
  const { stdout, stderr } = await run(cmd, args, { cwd: apps[name], env: { ...cleanEnv, NO_COLOR: '1', FORCE_COLOR: '0' } });
  const text = strip(`${stdout}\n${stderr}`);
  log(`${name}: built in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return text;
}
function checkWarnings(name, text, allowed = []) {
  const lines = text.split('\n');
  const bad = lines.filter((l) => /warn|externaliz|\(!\)|critical dependency|can't resolve|not exported|node:|error/i.test(l) && !allowed.some((a) => a.test(l)));
  if (bad.length > 0) fail(`${name}: build output has warnings:\n    ${bad.slice(0, 12).join('\n    ')}`);
}

log('vite: make-models.mjs in Node (the installed package: save and load by path)');
log(`  ${(await run(process.execPath, ['make-models.mjs'], { cwd: apps.vite })).stdout.trim()}`);
const esbuildArgs = ['esbuild', '--bundle', '--format=esm', '--platform=browser'];
const WEBPACK_SIZE_HINTS = [
  /asset size limit|entrypoint size limit|performance recommendations|can impact web performance|You can limit the size|Assets:|Entrypoints:|\.wasm \(|\.js \(|main \(|compiled with \d+ warnings?/,
];
const [viteOut, esbuildOut, webpackOut] = await Promise.all([
  build('vite', 'npx', ['vite', 'build']),
  build('esbuild', 'npx', [...esbuildArgs, 'train-page.js', 'predict.js', 'train-worker.js', '--outdir=dist']),
  build('webpack', 'npx', ['webpack', '--mode', 'production']),
]);
checkWarnings('vite', viteOut);
checkWarnings('esbuild', esbuildOut);
checkWarnings('webpack', webpackOut, WEBPACK_SIZE_HINTS);
// esbuild leaves new URL('./kernels*.wasm', import.meta.url) alone: the kernels go beside the bundle.
const wasmDir = join(apps.esbuild, 'node_modules', 'convkit', 'dist', 'backend', 'wasm');
const wasmFiles = readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'));
for (const f of wasmFiles) copyFileSync(join(wasmDir, f), join(apps.esbuild, 'dist', f));
/** Which kernel build a served .wasm file is (bundlers rename them), by its bytes. */
const kernelBuilds = new Map(wasmFiles.map((f) => [readFileSync(join(wasmDir, f)).toString('base64'), f]));
writeFileSync(join(apps.esbuild, 'dist', 'index.html'), html(moduleScripts('')));

writeFileSync(join(apps.webpack, 'dist', 'index.html'), html('<script src="main.js"></script>'));
// Vite copied public/ (the models) into its build; the others serve the same files.
for (const name of ['esbuild', 'webpack']) cpSync(join(apps.vite, 'public'), join(apps[name], 'dist'), { recursive: true });

// ---- what the pages download
const gz = (b) => gzipSync(b).length;
const jsFiles = (dir) => readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.js')).map((f) => join(dir, f));
const kB = (n) => `${(n / 1000).toFixed(1)} kB`;

// The ONNX marker the workers are checked against is really in the pages' bundles.
for (const name of Object.keys(TOOLS)) {
  if (!jsFiles(join(apps[name], 'dist')).some((f) => readFileSync(f, 'utf8').includes('ModelProto'))) fail(`${name}: no bundle carries the ONNX importer that predict.js uses`);
}

log('budget: esbuild --minify of the training page');
await build('esbuild', 'npx', [...esbuildArgs, 'train-page.js', 'train-worker.js', '--minify', '--outdir=budget', '--metafile=budget/meta.json']);
const meta = JSON.parse(readFileSync(join(apps.esbuild, 'budget', 'meta.json'), 'utf8'));
const leaked = Object.values(meta.outputs)
  .flatMap((o) => Object.entries(o.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([p]) => p))
  .filter((p) => /protobufjs|\/io\/onnx\/|\/data\/image\//.test(p));
if (leaked.length > 0) fail(`budget: the training bundle includes ${leaked.length} modules it does not use: ${leaked.slice(0, 5).join(', ')}`);
const budgetJs = jsFiles(join(apps.esbuild, 'budget')).map((f) => readFileSync(f));
const js = { raw: budgetJs.reduce((a, b) => a + b.length, 0), gzip: budgetJs.reduce((a, b) => a + gz(b), 0) };
const wasm = wasmFiles.map((f) => {
  const b = readFileSync(join(wasmDir, f));
  return { file: f, raw: b.length, gzip: gz(b) };
});
log(`  JS  esbuild --minify, training page + worker: ${kB(js.raw)} raw, ${kB(js.gzip)} gzipped`);
for (const w of wasm) log(`  wasm ${w.file}: ${kB(w.raw)} raw, ${kB(w.gzip)} gzipped`);
if (js.gzip > BUDGET.jsGzip) fail(`budget: training JS is ${kB(js.gzip)} gzipped, over ${kB(BUDGET.jsGzip)}`);
if (js.raw > BUDGET.jsRaw) fail(`budget: training JS is ${kB(js.raw)} minified, over ${kB(BUDGET.jsRaw)}`);
for (const w of wasm) if (w.raw > BUDGET.wasmRaw) fail(`budget: ${w.file} is ${kB(w.raw)}, over ${kB(BUDGET.wasmRaw)}`);

// ---- in the browser: each app with and without COOP/COEP

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: CHROMIUM_ARGS,
});
const results = {};
try {
  for (const name of Object.keys(TOOLS)) {
    for (const isolated of [true, false]) {
      const server = await serve(join(apps[name], 'dist'), isolated);
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`);
      });
      const label = `${name}, ${isolated ? 'COOP/COEP' : 'no COOP/COEP'}`;
      try {
        await page.goto(`http://127.0.0.1:${server.address().port}/`);
        await page.waitForFunction(() => (window.__train || window.__trainError) && (window.__predict || window.__predictError), null, { timeout: 90_000 });
        const r = await page.evaluate(() => ({ train: window.__train, trainError: window.__trainError, predict: window.__predict, predictError: window.__predictError, crossOriginIsolated }));
        results[label] = r;
        if (r.trainError) fail(`${label}: training failed: ${r.trainError}`);
        if (r.predictError) fail(`${label}: prediction failed: ${r.predictError}`);
        if (r.train) checkTraining(label, join(apps[name], 'dist'), r, isolated);
        if (r.predict) checkPredictions(label, r.predict);
        const shown = await page.textContent('#train');
        if (!new RegExp(`step ${STEPS}: loss \\d`).test(shown ?? '')) fail(`${label}: the page does not show the loss`);
      } catch (e) {
        fail(`${label}: ${e.message.split('\n')[0]}`);
      }
      for (const e of errors) fail(`${label}: ${e}`);
      await context.close();
      await new Promise((resolve) => server.close(resolve));
    }
  }
} finally {
  await browser.close();
}

function checkTraining(label, dir, r, isolated) {
  const { losses, backend, fetched, ms } = r.train;
  const files = fetched.map((u) => join(dir, decodeURIComponent(new URL(u).pathname)));
  const wasmBuilds = files.filter((f) => f.endsWith('.wasm')).map((f) => kernelBuilds.get(readFileSync(f).toString('base64')) ?? `${f} (not a kernel build)`);
  const scripts = files.filter((f) => f.endsWith('.js')).map((f) => readFileSync(f));
  const size = { raw: scripts.reduce((a, b) => a + b.length, 0), gzip: scripts.reduce((a, b) => a + gz(b), 0) };
  const fmt = losses.map((l) => l.toFixed(4)).join(' ');
  log(`${label}: ${backend}, ${r.train.isolated ? 'isolated' : 'not isolated'}, ${wasmBuilds.join(', ')}, worker JS ${kB(size.raw)} (${kB(size.gzip)} gzipped) in ${scripts.length} file(s), ${ms.toFixed(0)} ms; loss ${fmt}`);
  if (backend !== 'wasm') fail(`${label}: trained on ${backend}, not wasm`);
  if (r.train.isolated !== isolated || r.crossOriginIsolated !== isolated) fail(`${label}: crossOriginIsolated is ${r.crossOriginIsolated} (worker ${r.train.isolated})`);
  // Shared memory (threads) means the kernels built for it; without it, the single-thread build.
  const want = isolated ? /^kernels(-fma)?\.wasm$/ : /^kernels-st(-fma)?\.wasm$/;
  if (wasmBuilds.length !== 1 || !want.test(wasmBuilds[0])) fail(`${label}: fetched ${wasmBuilds.join(', ') || 'no wasm'}, expected ${want}`);
  // Tree shaking: the worker imports only tensors, layers and training: no ONNX (its protobuf
  // descriptor names ModelProto), although the page's own chunk has it.
  if (scripts.some((b) => b.includes('ModelProto'))) fail(`${label}: the training worker downloads the ONNX importer`);
  if (losses.length !== STEPS || !losses.every(Number.isFinite)) fail(`${label}: losses ${fmt}`);
  else if (!(losses[STEPS - 1] < Math.min(losses[0], Math.log(10)))) fail(`${label}: the loss did not fall below chance (${fmt})`);
}

function checkPredictions(label, p) {
  for (const what of ['convkit', 'onnx', 'file']) {
    const got = p[what];
    const worst = Math.max(...p.expected.map((v, i) => Math.abs(v - got[i])));
    if (!(got.length === p.expected.length && worst < 1e-4)) fail(`${label}: ${what} predictions differ from Node's by ${worst}`);
  }
  if (!/^ConvkitError: .*needs Node\.js .*serializeModel/.test(p.saveError)) fail(`${label}: model.save(path) in the page gave: ${p.saveError}`);
  log(`${label}: predictions from model.convkit (URL and File) and model.onnx (URL) match Node's`);
}

// The same seed trains to the same losses with threads and without, up to float32 rounding
// (the threaded and single-thread kernel builds are compiled separately).
for (const name of Object.keys(TOOLS)) {
  const a = results[`${name}, COOP/COEP`]?.train?.losses;
  const b = results[`${name}, no COOP/COEP`]?.train?.losses;
  if (a && b && a.some((v, i) => Math.abs(v - b[i]) > 1e-5 * Math.max(1, Math.abs(v)))) fail(`${name}: losses with threads (${a.join(' ')}) differ from one thread (${b.join(' ')})`);
}

if (failures.length > 0) {
  console.log(`\ntest:bundlers: ${failures.length} failure(s)`);
  process.exit(1);
}
log('test:bundlers: passed');
