import type { Command } from 'commander';
import { preprocessFolder } from '../../data/image/preprocess-folder.js';
import { action } from '../run.js';
import { addImageOptions, preprocessSpec, type ImageFlags } from './image-options.js';

export function registerPreprocess(program: Command): void {
  addImageOptions(
    program
      .command('preprocess <in> <out>')
      .description('write a cropped, resized copy of an image folder (sub-folders kept, PNG by default)'),
  )
    .option('--skip-bad', 'report unreadable files and go on instead of stopping')
    .option('--json', 'print one JSON object')
    .action(
      action(async (input: string, out: string, flags: ImageFlags & { skipBad?: boolean; json?: boolean }) => {
        const result = preprocessFolder(input, out, { ...preprocessSpec(flags), onError: flags.skipBad ? 'skip' : 'throw' });
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(result)}\n`);
          return;
        }
        process.stdout.write(`wrote ${result.written} images to ${out}\n`);
        for (const s of result.skipped) process.stdout.write(`skipped ${s.path}: ${s.error}\n`);
      }),
    );
}
