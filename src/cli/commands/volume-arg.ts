/** [C, H, W] -> the notes' WxHxC. */
export function fmtVolumeArg(shape: readonly number[]): string {
  return `${shape[2]}x${shape[1]}x${shape[0]}`;
}
