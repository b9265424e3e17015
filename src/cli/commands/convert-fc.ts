import type { Command } from 'commander';
import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { Sequential } from '../../nn/sequential.js';
import { toFullyConvolutional, totalStride } from '../../analysis/fc-to-conv.js';
import { fmtVolumeArg, volumeFromMetadata } from './volume-arg.js';
import { loadWithMetadata, save } from '../../io/save-load.js';
import { action } from '../run.js';

export function registerConvertFc(program: Command): void {
  program
    .command('convert-fc <model> <out>')
    .description('turn every FC layer of a saved model into the equivalent CONV layer, to slide it over larger images in one pass')
    .option('--input <WxHxC>', 'the training input volume, if the file does not record it')
    .option('--json', 'print one JSON object')
    .action(
      action(async (file: string, out: string, flags: { input?: string; json?: boolean }) => {
        const { model, metadata } = await loadWithMetadata(file);
        if (!(model instanceof Sequential)) {
          throw new ConvkitError(`${file}: convert-fc needs a model whose layers run in a row (a Sequential), got ${model.typeName}`);
        }
        const input = volumeFromMetadata(file, flags.input, metadata.inputShape);
        const fcn = toFullyConvolutional(model, input);
        const stride = totalStride(fcn, input);
        await save(fcn, out, { ...metadata, inputShape: [...input], fullyConvolutional: true, totalStride: stride });
        if (flags.json) process.stdout.write(`${JSON.stringify({ out, input, totalStride: stride })}\n`);
        else {
          process.stdout.write(
            `saved ${out}: trained on ${fmtVolumeArg(input)}; on a larger image it gives a grid of class scores, one every ${stride[0]}x${stride[1]} pixels ` +
              `(input ${fmtShape(input)})\n`,
          );
        }
      }),
    );
}
