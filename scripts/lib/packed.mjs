// Helpers of the scripts that test convkit as its users get it (bundlers-test.mjs,
// consumer-test.mjs, examples-test.mjs): the package built from the current sources, packed
// with `npm pack`, installed into fresh folders outside the repository, and run with no trace
// of the repository in the environment; plus a static server for the browser checks.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CI = process.env.CI === '1' || process.env.CI === 'true';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * The environment of the installed apps: no npm settings or scripts of ours (npm run passes
 * them down), no node_modules/.bin of ours on the PATH.
 */
export const cleanEnv = Object.fromEntries(
  Object.entries(process.env)
    .filter(([k]) => !/^npm_/i.test(k))
    .map(([k, v]) => [k, k === 'PATH' ? v.split(':').filter((d) => !d.startsWith(root)).join(':') : v]),
);

const execApp = promisify(execFile);
/** Runs a command in the clean environment; resolves to { stdout, stderr }, rejects on a non-zero exit. */
export const run = (cmd, args, opts = {}) => execApp(cmd, args, { env: cleanEnv, maxBuffer: 64 << 20, ...opts });

/** A logger that prefixes the seconds since it was made. */
/** A fresh folder outside the repository, removed when the process exits (kept with KEEP=1). */
export function scratchDir(prefix) {
  const work = mkdtempSync(join(tmpdir(), prefix));
  process.on('exit', () => {
    if (process.env.KEEP === '1') console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  });
  return work;
}

export function timedLog() {
  const t0 = Date.now();
  return (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${msg}`);
}

function newest(dir, ext) {
  let t = 0;
  for (const f of readdirSync(dir, { recursive: true })) {
    if (String(f).endsWith(ext)) t = Math.max(t, statSync(join(dir, String(f))).mtimeMs);
  }
  return t;
}

/** The package is what `npm pack` ships: builds dist/ when it is missing or older than src/. */
export function ensureBuilt(log = console.log) {
  const entry = join(root, 'dist', 'index.js');
  if (!existsSync(entry) || newest(join(root, 'src'), '.ts') > statSync(entry).mtimeMs) {
    log('dist/ is missing or older than src/: npm run build');
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  }
}

/** `npm pack` of the built package into `dir`; returns the tarball's path. */
export async function packInto(dir) {
  const packed = JSON.parse((await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root })).stdout);
  return join(dir, packed[0].filename);
}

/** npm install of `specs` (the tarball, tools) into `dir`, quietly, from npm's cache where it can. */
export function npmInstall(dir, specs) {
  return run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...specs], { cwd: dir });
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
/** Serves `dir` on 127.0.0.1 (a free port), with COOP/COEP headers when `isolated`. */
export function serve(dir, isolated) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    if (!file.startsWith(dir) || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end('not found');
      return;
    }
    const headers = { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' };
    if (isolated) Object.assign(headers, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
    res.writeHead(200, headers).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
