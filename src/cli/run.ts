import { ConvkitError } from '../tensor/errors.js';

/**
 * Runs a command body and turns failures into one clear line on stderr and a non-zero exit:
 * ConvkitErrors (bad input) print their message alone; anything else is a bug, shown with
 * its stack only under CONVKIT_DEBUG.
 */
export function action<A extends unknown[]>(body: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await body(...args);
    } catch (e) {
      reportError(e);
    }
  };
}

/**
 * Prints an error as one line starting `convkit: ` and sets the exit code: 1 for a
 * ConvkitError (bad input; its message says what to change), 2 for anything else (a bug).
 */
export function reportError(e: unknown): void {
  if (e instanceof ConvkitError) {
    // Messages are one line; a multi-line one (a pattern's caret) keeps its lines indented.
    process.stderr.write(`convkit: ${e.message.replace(/\n/g, '\n  ')}\n`);
    process.exitCode = 1;
    return;
  }
  const err = e as Error | undefined;
  const message = (err?.message ?? String(e)).split('\n')[0];
  const hint = process.env['CONVKIT_DEBUG'] ? `\n${err?.stack}` : ' (a bug: please report it; CONVKIT_DEBUG=1 shows the stack trace)';
  process.stderr.write(`convkit: internal error: ${message}${hint}\n`);
  process.exitCode = 2;
}

/** Parses a positive integer option with an error naming it. */
export function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isSafeInteger(n) || n < 1) throw new ConvkitError(`${name} must be a positive integer, got '${v}'`);
    return n;
  };
}

/** Parses an integer option (any sign) with an error naming it. */
export function integer(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isSafeInteger(n)) throw new ConvkitError(`${name} must be an integer, got '${v}'`);
    return n;
  };
}

/** Parses a number in [0, 1) with an error naming it. */
export function fraction(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !(n >= 0 && n < 1)) throw new ConvkitError(`${name} must be a number from 0 up to (not including) 1, got '${v}'`);
    return n;
  };
}

export function nonNegativeNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new ConvkitError(`${name} must be a non-negative number, got '${v}'`);
    return n;
  };
}
