/**
 * The one error type convkit throws on bad input. Messages name the layer or op, the numbers
 * involved and what to change, so that the CLI can print `message` alone.
 */
export class ConvkitError extends Error {
  override name = 'ConvkitError';
  constructor(message: string) {
    super(message);
  }
}

/** Throws a ConvkitError with `message` unless `condition` holds. */
export function check(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new ConvkitError(typeof message === 'function' ? message() : message);
}

/** `[2, 3, 4]` -> `[2, 3, 4]` as text, for error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
