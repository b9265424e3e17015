#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import '../node.js';
import { registerTrain } from './commands/train.js';
import { registerEval } from './commands/eval.js';
import { registerInfo } from './commands/info.js';
import { registerPredict } from './commands/predict.js';
import { registerPlayground } from './commands/playground.js';
import { registerExport } from './commands/export.js';
import { registerFinetune } from './commands/finetune.js';
import { registerSummary } from './commands/summary.js';
import { registerConvertFc } from './commands/convert-fc.js';
import { registerStats } from './commands/stats.js';
import { registerPreprocess } from './commands/preprocess.js';
import { registerProfile } from './commands/profile.js';
import { registerReport } from './commands/report.js';
import { checkEnvironment, formatUsageError, reportError, selectBackend } from './run.js';

// `convkit summary vgg16 | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

/** The `convkit` command. Every subcommand has --help; numbers come out as JSON with --json. */
const program = new Command();
program
  .name('convkit')
  .description('build, train, inspect and run ConvNets')
  .version('0.1.0')
  .option('--backend <name>', 'js, wasm or webgpu (default: CONVKIT_BACKEND, else wasm)')
  .exitOverride()
  // Selected before any command runs; webgpu starts its device here (or says why it cannot).
  .hook('preAction', async () => {
    checkEnvironment();
    const name = (program.opts() as { backend?: string }).backend ?? process.env['CONVKIT_BACKEND'];
    if (name) await selectBackend(name);
  });

registerTrain(program);
registerEval(program);
registerInfo(program);
registerPredict(program);
registerPlayground(program);
registerExport(program);
registerFinetune(program);
registerSummary(program);
registerConvertFc(program);
registerStats(program);
registerPreprocess(program);
registerProfile(program);
registerReport(program);

// Usage errors (unknown option, missing argument) as one line in the same form as every other
// error, pointing at the command's --help instead of printing all of it.
for (const cmd of [program, ...program.commands]) {
  const name = cmd === program ? 'convkit' : `convkit ${cmd.name()}`;
  cmd.configureOutput({
    outputError: (str, write) => write(formatUsageError(name, str)),
  });
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Commander has already printed its message (or the help/version text).
    process.exitCode = e.exitCode;
  } else {
    reportError(e);
  }
}
