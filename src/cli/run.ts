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
      if (e instanceof ConvkitError) {
        process.stderr.write(`convkit: ${e.message}\n`);
        process.exitCode = 1;
        return;
      }
      const err = e as Error;
      process.stderr.write(`convkit: internal error: ${err?.message ?? String(e)}\n`);
      if (process.env['CONVKIT_DEBUG']) process.stderr.write(`${err?.stack}\n`);
      else process.stderr.write('(set CONVKIT_DEBUG=1 for the stack trace; this is a bug, please report it)\n');
      process.exitCode = 2;
    }
  };
}

/** Parses a positive integer option with an error naming it. */
export function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new ConvkitError(`${name} must be a positive integer, got '${v}'`);
    return n;
  };
}

export function nonNegativeNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new ConvkitError(`${name} must be a non-negative number, got '${v}'`);
    return n;
  };
}
