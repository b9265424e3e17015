import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The playground's browser tests (`npm run test:browser`, which builds the page and finds
 * Chromium first). Kept out of `npm test`: they need the built page and a browser. One file,
 * one browser, tests in order (they share the page's state).
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/browser/**/*.browser.ts'],
    testTimeout: 90_000,
    hookTimeout: 90_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
