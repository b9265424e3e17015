// npm run fetch:conformance [-- --from DIR] [-- --ref TAG]: puts the ONNX project's backend
// test data (github.com/onnx/onnx, onnx/backend/test/data/{pytorch-converted,pytorch-operator,
// light}, Apache-2.0) into test/fixtures/onnx-conformance/ (git-ignored), where the ONNX
// conformance tests and `npm run fuzz` look for it (test/io/onnx-helpers.ts). About 11 MB.
//
// --from DIR copies a local copy (a folder holding those three folders); otherwise a shallow,
// sparse git checkout of the tag fetches only them. Nothing happens when the folder is already
// filled (delete it to refetch). Exits 1 with a message when neither source works; the tests
// then skip with a message.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'test', 'fixtures', 'onnx-conformance');
const FOLDERS = ['pytorch-converted', 'pytorch-operator', 'light'];
const REPO = 'https://github.com/onnx/onnx.git';
const DATA = 'onnx/backend/test/data';

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const from = flag('--from');
const ref = flag('--ref') ?? 'v1.17.0';

if (FOLDERS.every((f) => existsSync(join(target, f)) && readdirSync(join(target, f)).length > 0)) {
  console.log(`ONNX conformance data already in ${target} (delete it to fetch again)`);
  process.exit(0);
}

function copyFrom(dir, origin) {
  const missing = FOLDERS.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) throw new Error(`${dir} has no ${missing.join(', ')} folder`);
  rmSync(target, { recursive: true, force: true });
  for (const f of FOLDERS) cpSync(join(dir, f), join(target, f), { recursive: true });
  writeFileSync(join(target, 'SOURCE.txt'), `${origin}\n`);
  console.log(`ONNX conformance data copied from ${origin} into ${target}`);
}

try {
  if (from) {
    copyFrom(resolve(from), resolve(from));
  } else {
    const work = mkdtempSync(join(tmpdir(), 'onnx-conformance-'));
    try {
      const git = (...a) => execFileSync('git', a, { cwd: work, stdio: ['ignore', 'inherit', 'inherit'] });
      git('clone', '--depth', '1', '--branch', ref, '--filter=blob:none', '--sparse', REPO, 'onnx');
      execFileSync('git', ['sparse-checkout', 'set', ...FOLDERS.map((f) => `${DATA}/${f}`)], { cwd: join(work, 'onnx'), stdio: 'inherit' });
      copyFrom(join(work, 'onnx', DATA), `${REPO} ${ref} ${DATA}`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
} catch (e) {
  console.error(`fetch:conformance failed: ${e instanceof Error ? e.message : String(e)}`);
  console.error('Without the data the ONNX conformance tests skip; with a local copy: npm run fetch:conformance -- --from DIR');
  process.exit(1);
}
