// Builds the WebAssembly kernels (assembly/) with AssemblyScript, a dev dependency, so no
// system toolchain is needed: kernels.wasm (SIMD + threads, shared memory) and
// kernels-st.wasm (SIMD only, for hosts without SharedArrayBuffer), each also as a -fma build
// with relaxed SIMD (fused multiply-add in the GEMM and convolution inner loops; see
// assembly/madd.ts), which the loader picks where the engine accepts it. Output goes next to the
// loader in src/backend/wasm/ (gitignored) and into dist/backend/wasm/.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asc = join(dirname(createRequire(import.meta.url).resolve('assemblyscript/package.json')), 'bin', 'asc.js');
const outDir = join(root, 'src', 'backend', 'wasm');
const common = ['assembly/index.ts', '-O3', '--runtime', 'stub', '--noAssert', '--importMemory', '--initialMemory', '32'];
const builds = [
  ['kernels.wasm', ['--enable', 'simd,threads', '--sharedMemory', '--maximumMemory', '65536']],
  ['kernels-st.wasm', ['--enable', 'simd', '--disable', 'threads', '--maximumMemory', '65536']],
  ['kernels-fma.wasm', ['--enable', 'simd,threads,relaxed-simd', '--sharedMemory', '--maximumMemory', '65536']],
  ['kernels-st-fma.wasm', ['--enable', 'simd,relaxed-simd', '--disable', 'threads', '--maximumMemory', '65536']],
];
for (const [file, flags] of builds) {
  // Written under a temporary name and renamed: a test or bench starting meanwhile reads the
  // old file or the new one, never half of one.
  const tmp = join(outDir, file.replace('.wasm', `.${process.pid}.tmp.wasm`));
  execFileSync(process.execPath, [asc, ...common, ...flags, '-o', tmp], { cwd: root, stdio: 'inherit' });
  renameSync(tmp, join(outDir, file));
}
// dist/ gets its copy whether or not tsc has run yet (`npm run build` builds the wasm first).
{
  mkdirSync(join(root, 'dist', 'backend', 'wasm'), { recursive: true });
  for (const [file] of builds) {
    const dest = join(root, 'dist', 'backend', 'wasm', file);
    copyFileSync(join(outDir, file), `${dest}.${process.pid}.tmp`);
    renameSync(`${dest}.${process.pid}.tmp`, dest);
  }
}
