import type { Command } from 'commander';
import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { Sequential } from '../../nn/sequential.js';
import type { Module } from '../../nn/module.js';
import { toFullyConvolutional, totalStride } from '../../analysis/fc-to-conv.js';
import { parseVolume } from '../../analysis/units.js';
import { fmtVolumeArg } from './volume-arg.js';
import { save } from '../../io/save-load.js';
import { loadModelArg } from '../model-loader.js';
import { onnxToFullyConvolutional } from '../onnx-fc-to-conv.js';
import { action } from '../run.js';

export function registerConvertFc(program: Command): void {
  program
    .command('convert-fc <model> <out>')
    .description('turn every FC layer of a model (.convkit model or checkpoint, or .onnx) into the equivalent CONV layer, to slide it over larger images in one pass')
    .option('--input <WxHxC>', 'the training input volume, if the file does not record it')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nThe result is a .convkit file; score images with it by convkit predict --dense <out> <image>.')
    .action(
      action(async (file: string, out: string, flags: { input?: string; json?: boolean }) => {
        if (out.toLowerCase().endsWith('.onnx')) throw new ConvkitError(`convert-fc writes a convkit model; name the output .convkit, got '${out}'`);
        const { model, metadata, kind } = await loadModelArg(file);
        const recorded = metadata.inputShape;
        const given = flags.input ? parseVolume(flags.input) : undefined;
        if (given && recorded && recorded.join() !== given.join()) {
          throw new ConvkitError(`--input ${flags.input} disagrees with ${file}, which records its input as ${fmtVolumeArg(recorded)}; leave --input out`);
        }
        const volume = given ?? recorded;
        if (!volume || volume.length !== 3) throw new ConvkitError(`${file}: the input volume is not recorded in the file; give it with --input WxHxC (e.g. 28x28x1)`);
        const input: [number, number, number] = [volume[0]!, volume[1]!, volume[2]!];
        if (metadata['fullyConvolutional'] === true) throw new ConvkitError(`${file} is fully convolutional already (made by convert-fc)`);
        let fcn: Module;
        let stride: [number, number];
        if (kind === 'onnx') {
          ({ model: fcn, totalStride: stride } = await onnxToFullyConvolutional(file, input));
        } else {
          if (!(model instanceof Sequential)) {
            throw new ConvkitError(`${file}: convert-fc needs a model whose layers run in a row (a Sequential), got ${model.typeName}; export it to ONNX (convkit export) and convert that`);
          }
          fcn = toFullyConvolutional(model, input);
          stride = totalStride(fcn, input);
        }
        const { checkpointEpoch: _epoch, ...kept } = metadata;
        await save(fcn, out, { ...kept, inputShape: [...input], fullyConvolutional: true, totalStride: stride });
        if (flags.json) process.stdout.write(`${JSON.stringify({ out, input, totalStride: stride })}\n`);
        else {
          process.stdout.write(
            `saved ${out}: trained on ${fmtVolumeArg(input)}; on a larger image it gives a grid of class scores, one every ${stride[0]}x${stride[1]} pixels ` +
              `(input ${fmtShape(input)}); score images with convkit predict --dense ${out} <image>\n`,
          );
        }
      }),
    );
}
