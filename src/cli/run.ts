import { ConvkitError } from '../tensor/errors.js';
import { getBackendName, listBackends, setBackend } from '../backend/registry.js';

/**
 * Runs a command body and turns failures into one clear line on stderr and a non-zero exit:
 * ConvkitErrors (bad input) print their message alone; anything else is a bug, shown with
 * its stack only under CONVKIT_DEBUG.
 */
export function action<A extends unknown[]>(body: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      checkEnvironment();
      await body(...args);
    } catch (e) {
      reportError(e);
    }
  };
}

/** Whether this run prints JSON (`--json` anywhere on the command line): errors then come as JSON too. */
export function jsonMode(argv: readonly string[] = process.argv): boolean {
  return argv.slice(2).includes('--json');
}

/**
 * Prints an error and sets the exit code: 1 for a ConvkitError (bad input; its message says
 * what to change), 2 for anything else (a bug). As one line `convkit: ...` on stderr, or with
 * --json as one JSON object {"error", "kind"} on stderr, so a script reading JSON never has to
 * parse prose.
 */
export function reportError(e: unknown): void {
  if (e instanceof ConvkitError) {
    if (jsonMode()) process.stderr.write(`${JSON.stringify({ error: e.message, kind: 'input' })}\n`);
    // Messages are one line; a multi-line one (a pattern's caret) keeps its lines indented.
    else process.stderr.write(`convkit: ${e.message.replace(/\n/g, '\n  ')}\n`);
    process.exitCode = 1;
    return;
  }
  const err = e as Error | undefined;
  const message = (err?.message ?? String(e)).split('\n')[0];
  if (jsonMode()) {
    process.stderr.write(`${JSON.stringify({ error: `internal error: ${message}`, kind: 'internal', ...(process.env['CONVKIT_DEBUG'] ? { stack: err?.stack } : {}) })}\n`);
  } else {
    const hint = process.env['CONVKIT_DEBUG'] ? `\n${err?.stack}` : ' (a bug: please report it; CONVKIT_DEBUG=1 shows the stack trace)';
    process.stderr.write(`convkit: internal error: ${message}${hint}\n`);
  }
  process.exitCode = 2;
}

/** A usage error from the option parser (unknown option, missing argument), in the form of every other error. */
export function formatUsageError(command: string, text: string): string {
  const message = `${text.trim().replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')} (see ${command} --help)`;
  return jsonMode() ? `${JSON.stringify({ error: message, kind: 'usage' })}\n` : `convkit: ${message}\n`;
}

/** `--backend <name>` (or CONVKIT_BACKEND): selects and starts a backend, or says what exists. */
export async function selectBackend(name: string): Promise<void> {
  if (!listBackends().includes(name)) throw new ConvkitError(`--backend ${name}: unknown backend; use js, wasm or webgpu`);
  await setBackend(name);
}

/**
 * The environment variables convkit reads, checked before a command runs: a typo
 * (CONVKIT_BACKEND=wsam, CONVKIT_THREADS=four) is an error rather than silently the default.
 */
export function checkEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  const backend = env['CONVKIT_BACKEND'];
  if (backend !== undefined && backend !== '') {
    const known = listBackends();
    if (!['js', 'wasm', 'webgpu'].includes(backend)) throw new ConvkitError(`CONVKIT_BACKEND=${backend} is not a backend; use js, wasm or webgpu (or leave it unset for the default, ${getBackendName()})`);
    if (!known.includes(backend)) throw new ConvkitError(`CONVKIT_BACKEND=${backend}: that backend is not available here (available: ${known.join(', ')})`);
  }
  const threads = env['CONVKIT_THREADS'];
  if (threads !== undefined && threads !== '') {
    const n = Number(threads);
    if (!/^\s*\d+\s*$/.test(threads) || !Number.isSafeInteger(n) || n < 1) {
      throw new ConvkitError(`CONVKIT_THREADS=${threads} is not a number of threads; give a positive integer such as 4 (or leave it unset for one per core, at most 8)`);
    }
  }
  const fma = env['CONVKIT_WASM_FMA'];
  if (fma !== undefined && fma !== '' && fma !== '0' && fma !== '1') {
    throw new ConvkitError(`CONVKIT_WASM_FMA=${fma}: use 0 (portable multiply + add) or 1 (fused multiply-add where the engine has it)`);
  }
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
