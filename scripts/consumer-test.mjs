// npm run test:consumer: convkit as someone who installs it gets it. Packs the project (npm
// pack), installs the tarball into an empty folder outside the repository, and there, with no
// trace of the repository in the environment (scripts/lib/packed.mjs): `npx convkit train
// --epochs 1` (LeNet-5 on the embedded digits), an ESM import of 'convkit' and 'convkit/node',
// and `npx convkit summary vgg16`. Needs npm's cache or registry for the dependencies.
// KEEP=1 keeps the folder.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, npmInstall, packInto, run, timedLog, scratchDir } from './lib/packed.mjs';

const log = timedLog();
ensureBuilt(log);
const work = scratchDir('convkit-consumer-');
const app = join(work, 'app');
const failures = [];

async function check(what, cmd, args, expect) {
  const t = Date.now();
  try {
    const { stdout, stderr } = await run(cmd, args, { cwd: app });
    const bad = expect.filter((re) => !re.test(stdout));
    if (bad.length > 0) failures.push(`${what}: output lacks ${bad.join(', ')}:\n${stdout}\n${stderr}`);
    else log(`ok: ${what} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failures.push(`${what}: exit ${e.code}\n${e.stdout ?? ''}\n${e.stderr ?? e.message}`);
  }
}

log(`npm pack into ${work}`);
const tarball = await packInto(work);
mkdirSync(app);
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
log('npm install the tarball into an empty folder');
await npmInstall(app, [tarball]);

await check('npx convkit train --epochs 1', 'npx', ['--no-install', 'convkit', 'train', '--epochs', '1'], [/test accuracy/i]);
writeFileSync(
  join(app, 'use.mjs'),
  `import * as ck from 'convkit';
import * as node from 'convkit/node';
const y = ck.F.relu(ck.tensor([-1, 2]));
const model = ck.models.createModel('lenet5');
const out = ck.noGrad(() => model.forward(ck.zeros([2, 1, 28, 28])));
console.log(JSON.stringify({ relu: Array.from(y.values()), out: out.shape, backend: ck.getBackendName(), digits: typeof node.data.loadDigits }));
`,
);
await check('ESM import of convkit and convkit/node', process.execPath, ['use.mjs'], [/"relu":\[0,2\]/, /"out":\[2,10\]/, /"backend":"wasm"/, /"digits":"function"/]);
await check('npx convkit summary vgg16', 'npx', ['--no-install', 'convkit', 'summary', 'vgg16'], [/138,357,544/]);

if (failures.length > 0) {
  console.log(`\ntest:consumer: ${failures.length} failure(s)`);
  for (const f of failures) console.log(`- ${f}`);
  process.exit(1);
}
log('test:consumer passed');
