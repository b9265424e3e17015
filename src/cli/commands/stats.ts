import type { Command } from 'commander';
import { folderStatistics, writeStatistics } from '../../data/image/folder-stats.js';
import { action } from '../run.js';
import { addImageOptions, preprocessSpec, type ImageFlags } from './image-options.js';

export function registerStats(program: Command): void {
  addImageOptions(
    program
      .command('stats <folder>')
      .description('mean and standard-deviation images (mean.png, std.png) and per-channel numbers (stats.json) of every image under a folder, in one streaming pass'),
  )
    .option('--out <dir>', 'where mean.png, std.png and stats.json go', '.')
    .option('--json', 'print the numbers as one JSON object')
    .action(
      action(async (folder: string, flags: ImageFlags & { out: string; json?: boolean }) => {
        const stats = folderStatistics(folder, preprocessSpec(flags));
        const written = await writeStatistics(stats, flags.out);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ ...written.numbers, files: { mean: written.mean, std: written.std, json: written.json } })}\n`);
          return;
        }
        const fmt = (v: number[]) => v.map((x) => x.toFixed(4)).join(', ');
        process.stdout.write(
          `${stats.count} images at ${flags.size}x${flags.size}: channel mean [${fmt(stats.channelMean)}], std [${fmt(stats.channelStd)}]\n` +
            `wrote ${written.mean}, ${written.std} (std scaled so the most variable pixel is white), ${written.json}\n`,
        );
      }),
    );
}
