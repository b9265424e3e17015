import type { Command } from 'commander';
import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { loadDataset } from '../../data/builtin.js';
import { DataLoader } from '../../data/data-loader.js';
import { evaluate } from '../../train/trainer.js';
import { loadWithMetadata } from '../../io/save-load.js';
import { action, positiveInt } from '../run.js';
import { normalizationTransform, savedNormalization } from '../input-normalization.js';

export function registerEval(program: Command): void {
  program
    .command('eval <model>')
    .description('accuracy and loss of a saved model on a test set')
    .option('--data <name|dir>', 'digits | fashion-mnist | cifar10 | a folder of IDX files (default: what the model was trained on, else digits)')
    .option('--data-dir <dir>', 'where fashion-mnist / cifar10 files are')
    .option('--split <split>', 'train | test', 'test')
    .option('--batch-size <n>', 'examples per forward pass', positiveInt('--batch-size'), 256)
    .option('--json', 'print one JSON object')
    .action(
      action(async (file: string, flags: { data?: string; dataDir?: string; split: 'train' | 'test'; batchSize: number; json?: boolean }) => {
        const { model, metadata } = await loadWithMetadata(file);
        const data = flags.data ?? (typeof metadata['trainedOn'] === 'string' ? metadata['trainedOn'] : 'digits');
        const set = loadDataset(data, { split: flags.split, ...(flags.dataDir ? { dataDir: flags.dataDir } : {}) });
        const expected = metadata.inputShape;
        if (expected && expected.join() !== set.sampleShape.join()) {
          throw new ConvkitError(
            `${file} expects inputs ${fmtShape(expected)} (C, H, W) but ${data} has ${fmtShape(set.sampleShape)}`,
          );
        }
        // The inputs as the model saw them in training.
        const normalization = savedNormalization(metadata);
        const r = evaluate(model, new DataLoader(set, { batchSize: flags.batchSize, ...(normalization ? { transform: normalizationTransform(normalization) } : {}) }));
        if (flags.json) process.stdout.write(`${JSON.stringify({ accuracy: r.accuracy, top5: r.top5, loss: r.loss, count: r.count, data, split: flags.split })}\n`);
        else process.stdout.write(`accuracy ${(r.accuracy * 100).toFixed(2)}%  top-5 ${(r.top5 * 100).toFixed(2)}%  loss ${r.loss.toFixed(4)}  (${r.count} images of ${data}/${flags.split})\n`);
      }),
    );
}
