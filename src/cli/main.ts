#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import '../node.js';
import { ConvkitError } from '../tensor/errors.js';
import { registerTrain } from './commands/train.js';
import { registerEval } from './commands/eval.js';
import { registerInfo } from './commands/info.js';

/** The `convkit` command. Every subcommand has --help; numbers come out as JSON with --json. */
const program = new Command();
program
  .name('convkit')
  .description('build, train, inspect and run ConvNets (CONVKIT_BACKEND=js|wasm picks the backend)')
  .version('0.1.0')
  .exitOverride()
  .showHelpAfterError();

registerTrain(program);
registerEval(program);
registerInfo(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Commander has already printed its message (or the help/version text).
    process.exitCode = e.exitCode;
  } else if (e instanceof ConvkitError) {
    process.stderr.write(`convkit: ${e.message}\n`);
    process.exitCode = 1;
  } else {
    throw e;
  }
}
