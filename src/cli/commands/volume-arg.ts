import { ConvkitError } from '../../tensor/errors.js';
import { parseVolume } from '../../analysis/units.js';

/** [C, H, W] from --input (WxHxC) or else the model file's recorded input shape. */
export function volumeFromMetadata(file: string, flag: string | undefined, recorded: readonly number[] | undefined): [number, number, number] {
  if (flag) return parseVolume(flag);
  if (recorded && recorded.length === 3) return [recorded[0]!, recorded[1]!, recorded[2]!];
  throw new ConvkitError(`${file}: the input volume is not recorded in the file; give it with --input WxHxC (e.g. 28x28x1)`);
}

/** [C, H, W] -> the notes' WxHxC. */
export function fmtVolumeArg(shape: readonly number[]): string {
  return `${shape[2]}x${shape[1]}x${shape[0]}`;
}
