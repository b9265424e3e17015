import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { expect } from 'vitest';
// The library itself, so that models saved by the command can be loaded here (layers registered).
import '../../src/index.js';
import { readIdxFile } from '../../src/data/data-files.js';
import { DIGITS_ASSET_DIR } from '../../src/data/digits.js';
import { idxBytes } from '../data/make-files.js';

/**
 * Runs the real `convkit` command (dist/cli/main.js) in child processes, on tiny datasets and
 * tiny models, so that CLI tests stay within seconds. dist/ is rebuilt (tsc only) when a source
 * file is newer than it; a lock folder keeps parallel test files from building at once.
 */

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(path) : name.endsWith('.ts') ? st.mtimeMs : 0);
  }
  return newest;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Builds dist/ with tsc when it is missing or older than src/ (tsc still emits when other files have type errors). */
export async function ensureBuilt(): Promise<void> {
  const lock = join(ROOT, 'node_modules', '.convkit-cli-test-build.lock');
  const stale = () => !existsSync(CLI) || statSync(CLI).mtimeMs < newestMtime(join(ROOT, 'src'));
  if (!stale()) return syncWasm();
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another test file is building; a lock older than two minutes is a leftover.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      await sleep(200);
      if (!stale()) return;
    }
  }
  try {
    if (stale()) {
      spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'ignore' });
    }
    syncWasm();
  } finally {
    rmdirSync(lock);
  }
  if (!existsSync(CLI)) throw new Error(`building ${CLI} failed; run npm run build`);
}

/**
 * dist/ must run the WebAssembly that matches its JavaScript: `npm run build:wasm` writes the
 * kernels into src/backend/wasm/ (and copies them to dist/ only when dist exists), so a newer
 * build there is copied over; without any build, one is made.
 */
function syncWasm(): void {
  const src = join(ROOT, 'src', 'backend', 'wasm');
  const dist = join(ROOT, 'dist', 'backend', 'wasm');
  if (!existsSync(join(src, 'kernels.wasm'))) {
    spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-wasm.mjs')], { cwd: ROOT, stdio: 'ignore' });
    return;
  }
  mkdirSync(dist, { recursive: true });
  for (const name of ['kernels.wasm', 'kernels-st.wasm']) {
    const from = join(src, name);
    const to = join(dist, name);
    if (existsSync(from) && (!existsSync(to) || statSync(to).mtimeMs < statSync(from).mtimeMs)) copyFileSync(from, to);
  }
}

/**
 * The environment of runs whose weights are compared across processes. The wasm backend runs
 * on one thread there: its multi-threaded kernels (conv2dBackpropFilter) currently split the
 * work by how many worker threads have started at the moment of the call (runtime.threads()),
 * which changes the order of float additions from run to run. Resume logic is what these
 * tests check; remove this once the split no longer depends on timing.
 */
export const SAME_RESULTS_ENV: Record<string, string> = { CONVKIT_THREADS: '1' };

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Called once the process has started (to kill it, say). */
  onSpawn?: (child: ChildProcess) => void;
  /** Called with every chunk of stdout as it arrives. */
  onStdout?: (text: string, child: ChildProcess) => void;
}

/** Runs `convkit ...args` and collects its output. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? tmpdir(),
      env: { ...process.env, CONVKIT_DEBUG: '', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      opts.onStdout?.(d, child);
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    opts.onSpawn?.(child);
  });
}

/** A failed run printed exactly one line, `convkit: ...`, on stderr (no stack trace) and exited non-zero. */
export function expectCleanError(r: CliResult, pattern?: RegExp): void {
  expect(r.code, `exit code; stderr: ${r.stderr}`).not.toBe(0);
  expect(r.code).not.toBeNull();
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^convkit: /);
  expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
  if (pattern) expect(lines[0]).toMatch(pattern);
}

/** A failed run with --json: stderr is exactly one JSON object {error, kind: 'input'}, exit code 1. */
export function expectJsonError(r: CliResult, pattern: RegExp): void {
  expect(r.code, `exit code; stderr: ${r.stderr}`).toBe(1);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  expect(lines, r.stderr).toHaveLength(1);
  const e = JSON.parse(lines[0]!) as { error: string; kind: string };
  expect(e.kind).toBe('input');
  expect(e.error).toMatch(pattern);
}

export function tempDir(prefix = 'convkit-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * A small MNIST-style folder: the first `train` and `test` images of the embedded digits
 * (real data, so a tiny model learns), written as IDX files a `--data <dir>` reads.
 */
export function writeTinyDigits(dir: string, train = 512, test = 256): string {
  mkdirSync(dir, { recursive: true });
  const take = (images: string, labels: string, n: number, prefix: string) => {
    const x = readIdxFile(join(DIGITS_ASSET_DIR, images));
    const y = readIdxFile(join(DIGITS_ASSET_DIR, labels));
    const [, rows, cols] = x.shape as [number, number, number];
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte.gz`), gzipSync(idxBytes([n, rows, cols], x.data.subarray(0, n * rows * cols))));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), idxBytes([n], y.data.subarray(0, n)));
  };
  take('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', train, 'train');
  take('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', test, 't10k');
  return dir;
}

/** A model small enough to train an epoch of tiny digits in well under a second. */
export const TINY_MODEL = 'CONV5-4 -> RELU -> POOL4 -> FC10';

/** The common flags of a quick training run into `out`. */
export function quickTrainArgs(data: string, out: string, extra: string[] = []): string[] {
  return ['train', '--model', TINY_MODEL, '--data', data, '--out', out, '--batch-size', '32', '--seed', '7', ...extra];
}

/** Parses JSON-lines output, failing on any line that is not JSON. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line: ${l}`);
      }
    });
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
