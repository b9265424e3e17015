import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startWebgpu } from '../helpers/webgpu.js';
import { ensureBuilt, jsonLines, quickTrainArgs, runCli, tempDir, writeTinyDigits } from './cli-helpers.js';

/*
 * `convkit train --backend webgpu` end to end on whatever adapter this machine gives (a
 * software one here): it trains, evaluates, writes the checkpoint, the model and the report, and
 * lands where the wasm backend lands from the same seed (float32 rounding apart).
 */

const why = await startWebgpu();

describe.skipIf(why !== null)('convkit train --backend webgpu', () => {
  beforeAll(ensureBuilt, 300_000);

  it('trains, evaluates and saves as on wasm', async () => {
    const root = tempDir();
    const data = writeTinyDigits(join(root, 'data'), 128, 64);
    const run = async (backend: string) => {
      const out = join(root, backend);
      const r = await runCli([...quickTrainArgs(data, out, ['--epochs', '1', '--json']), '--backend', backend]);
      expect(r.code, r.stderr).toBe(0);
      for (const f of ['checkpoint.convkit', 'model.convkit', 'report.html']) expect(existsSync(join(out, f)), f).toBe(true);
      const lines = jsonLines(r.stdout);
      expect(JSON.stringify(lines[1])).toContain(`backend ${backend}`);
      return lines.find((l) => l['event'] === 'done')!;
    };
    const gpu = await run('webgpu');
    const wasm = await run('wasm');
    expect(gpu['testAccuracy']).toBe(wasm['testAccuracy']);
    expect(Math.abs((gpu['testLoss'] as number) - (wasm['testLoss'] as number))).toBeLessThan(1e-2);
  }, 300_000);
});
