import type { Command } from 'commander';
import { action, positiveInt } from '../run.js';
import { rebuildReport } from '../training-report.js';

interface ReportFlags {
  dataDir?: string;
  worst?: number;
  json?: boolean;
}

export function registerReport(program: Command): void {
  program
    .command('report <out>')
    .description("rebuild <out>/report.html, a training run's report (curves, confusion matrix, worst images, filters), from its checkpoint")
    .option('--data-dir <dir>', 'where fashion-mnist / cifar10 files are, if train was given --data-dir')
    .option('--worst <n>', 'how many worst-classified test images to show', positiveInt('--worst'), 24)
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      '\n<out> is the --out folder of `convkit train`: the history and settings come from checkpoint.convkit, the\n' +
        'weights from model.convkit (else the checkpoint), and the test images are loaded again as train drew them\n' +
        '(the same data, size, channels, --test-size subset and seed, and normalization). The page is one file that\n' +
        'opens offline in a browser.',
    )
    .action(
      action(async (out: string, flags: ReportFlags) => {
        const { file, data } = await rebuildReport(out, { ...(flags.dataDir ? { dataDir: flags.dataDir } : {}), ...(flags.worst !== undefined ? { worst: flags.worst } : {}) });
        if (flags.json) process.stdout.write(`${JSON.stringify({ report: file, testAccuracy: data.test.accuracy, testCount: data.test.count, epochs: data.history.length })}\n`);
        else process.stdout.write(`report ${file} (test accuracy ${((data.test.accuracy ?? 0) * 100).toFixed(2)}% on ${data.test.count} images, ${data.history.length} epochs)\n`);
      }),
    );
}
