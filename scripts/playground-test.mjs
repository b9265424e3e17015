// npm run test:browser: the playground's browser tests (test/browser/), in headless Chromium
// (Debian's package, /usr/bin/chromium) driven by playwright-core, against the built page
// served on 127.0.0.1. Builds the page first when its sources changed. Without Chromium the
// tests are skipped with a message, unless CI=1 (or CONVKIT_INSTALL_CHROMIUM=1), which
// installs it with apt-get (as root) and fails if that is not possible. Extra arguments go to
// vitest (e.g. -t 'conv demo').
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const install = process.env.CI === '1' || process.env.CI === 'true' || process.env.CONVKIT_INSTALL_CHROMIUM === '1';

if (!existsSync(CHROMIUM)) {
  if (!install) {
    console.log(`test:browser skipped: no Chromium at ${CHROMIUM}. Install it with \`apt-get install -y chromium\` (Debian), or run with CI=1 to have this script install it.`);
    process.exit(0);
  }
  console.log('test:browser: installing Chromium with apt-get (CI=1)');
  const apt = (args) => execFileSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  apt(['update']);
  apt(['install', '-y', '--no-install-recommends', 'chromium']);
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is still missing`);
}

execFileSync(process.execPath, [join(root, 'scripts', 'playground-build.mjs'), '--if-stale'], { cwd: root, stdio: 'inherit' });
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
try {
  execFileSync(process.execPath, [vitest, 'run', '--config', join(root, 'test', 'browser', 'vitest.config.ts'), ...process.argv.slice(2)], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, CHROMIUM_PATH: CHROMIUM },
  });
} catch {
  process.exit(1);
}
