// node scripts/playground-bench.mjs: LeNet-5 training speed in the playground, in headless
// Chromium (test/browser/bench-lenet.ts; never part of a test run). Builds the page when its
// sources changed. BENCH_SECONDS sets the measuring time (default 20); PEERS the folder where
// ConvNetJS is installed for the same-browser comparison (default /tmp/peers).
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync(process.execPath, [join(root, 'scripts', 'playground-build.mjs'), '--if-stale'], { cwd: root, stdio: 'inherit' });
execFileSync(process.execPath, [join(root, 'node_modules', 'vite-node', 'vite-node.mjs'), join(root, 'test', 'browser', 'bench-lenet.ts')], { cwd: root, stdio: 'inherit' });
