// npm run build:web: builds the playground into dist/web/ (static files, hostable anywhere):
// the wasm kernels when they are missing or older than assembly/, the datasets
// (playground-data.mjs), a type check of web/, then Vite's production build. With --if-stale it
// does nothing when dist/web/ is newer than every source file (web/, src/ and assembly/).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'web', 'index.html');
const bin = (pkg, file) => join(root, 'node_modules', pkg, file);
const run = (args) => execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });

/** The newest modification time of the files under dir (generated data left out). */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && p !== join(root, 'web', 'public', 'data')) t = Math.max(t, newest(p));
    } else t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

const sources = () => Math.max(newest(join(root, 'web')), newest(join(root, 'src')), newest(join(root, 'assembly')));
const stale = () => !existsSync(built) || sources() > statSync(built).mtimeMs;
const kernels = join(root, 'src', 'backend', 'wasm', 'kernels.wasm');

if (process.argv.includes('--if-stale') && !stale()) {
  console.log('playground: dist/web/ is up to date');
} else {
  if (!existsSync(kernels) || newest(join(root, 'assembly')) > statSync(kernels).mtimeMs) run([join(root, 'scripts', 'build-wasm.mjs')]);
  run([join(root, 'scripts', 'playground-data.mjs')]);
  run([bin('typescript', 'bin/tsc'), '-p', join(root, 'web', 'tsconfig.json')]);
  run([bin('vite', 'bin/vite.js'), 'build', '-c', join(root, 'web', 'vite.config.ts'), '--logLevel', 'warn']);
  console.log('playground built in dist/web/');
}
