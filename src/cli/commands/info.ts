import type { Command } from 'commander';
import { loadWithMetadata } from '../../io/save-load.js';
import { action } from '../run.js';

export function registerInfo(program: Command): void {
  program
    .command('info <model>')
    .description('architecture, parameter count and metadata of a saved model')
    .option('--json', 'print one JSON object')
    .action(
      action(async (file: string, flags: { json?: boolean }) => {
        const { model, metadata } = await loadWithMetadata(file);
        const params = model.namedParameters().map(([name, p]) => ({ name, shape: [...p.shape], count: p.size }));
        const total = params.reduce((s, p) => s + p.count, 0);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ file, parameters: total, tensors: params, metadata, architecture: model.getConfig() })}\n`);
          return;
        }
        process.stdout.write(`${file}\n${model.toString()}\n`);
        process.stdout.write(`parameters: ${total.toLocaleString('en-US')} in ${params.length} tensors\n`);
        for (const [k, v] of Object.entries(metadata)) process.stdout.write(`${k}: ${JSON.stringify(v)}\n`);
      }),
    );
}
