// npm run playground [-- --port N]: builds the playground when its sources are newer than the
// build (or there is none), then serves dist/web/ on 127.0.0.1 with `convkit playground`,
// run from the TypeScript sources so that it needs no `npm run build`.
import { execFileSync, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync(process.execPath, [join(root, 'scripts', 'playground-build.mjs'), '--if-stale'], { cwd: root, stdio: 'inherit' });
const cli = [join(root, 'node_modules', 'vite-node', 'vite-node.mjs'), join(root, 'src', 'cli', 'main.ts'), '--', 'playground', ...process.argv.slice(2)];
const child = spawn(process.execPath, cli, { cwd: root, stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
