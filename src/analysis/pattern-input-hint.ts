import { ConvkitError } from '../tensor/errors.js';

/**
 * A window that does not tile its input deep in a network (POOL2 on a 25-wide volume) is
 * fixed by changing the network's input, not the volume where it failed: the geometry error's
 * "an input 24 or 26 wide" names sizes of that inner volume. This finds the nearest input
 * sizes for which the whole network works and rewrites the hint to name them.
 */

const INNER_HINT = /an input (\d+(?: or \d+)*) wide/;

/**
 * Input sizes near `input` ([C, H, W]) that `works` accepts: up to two, nearest first. A square
 * input stays square; otherwise only `axis` changes.
 */
export function nearestWorkingInputs(input: readonly [number, number, number], works: (shape: [number, number, number]) => boolean, axis?: 'height' | 'width', maxDistance = 64): [number, number, number][] {
  const [c, h, w] = input;
  const found: [number, number, number][] = [];
  const square = h === w;
  for (let d = 1; d <= maxDistance && found.length < 2; d++) {
    for (const sign of [-1, 1]) {
      const shape: [number, number, number] = square ? [c, h + sign * d, w + sign * d] : axis === 'height' ? [c, h + sign * d, w] : [c, h, w + sign * d];
      if (shape[1] < 1 || shape[2] < 1 || found.length >= 2) continue;
      try {
        if (works(shape)) found.push(shape);
      } catch {
        // Another size that fails: keep looking.
      }
    }
  }
  return found;
}

/**
 * `error`'s message with its inner-volume size hint replaced by network input sizes that
 * work (or dropped when none is near); other errors come back as they are.
 */
export function withNetworkInputHint(error: unknown, input: readonly [number, number, number], works: (shape: [number, number, number]) => boolean): unknown {
  if (!(error instanceof ConvkitError) || !INNER_HINT.test(error.message)) return error;
  const axis = /: height\b/.test(error.message) ? 'height' : /: width\b/.test(error.message) ? 'width' : undefined;
  const sizes = nearestWorkingInputs(input, works, axis);
  const fmt = (s: readonly number[]) => `${s[2]}x${s[1]}x${s[0]}`;
  const hint = sizes.length ? `a network input of ${sizes.map(fmt).join(' or ')} (instead of ${fmt(input)})` : `another network input size (none within 64 pixels of ${fmt(input)} works)`;
  const fixed = new ConvkitError(error.message.replace(INNER_HINT, hint));
  fixed.stack = error.stack ?? '';
  return fixed;
}
