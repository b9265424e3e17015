/**
 * The fuzzers' supervisor (scripts/fuzz-onnx.ts, scripts/fuzz-torch-io.ts): runs the cases in a
 * child process that prints `ready` once started and then one JSON line per case. A case that
 * takes longer than `hangMs` gets the child killed; the case it was on is reported lost (a hang,
 * or a crash when the child died by itself) and a new child goes on with the next case.
 */
import { spawn } from 'node:child_process';

export interface ChildCasesOptions {
  cases: number;
  hangMs: number;
  /** The child's command-line arguments (after node's own) to run cases `from`..`cases - 1`. */
  childArgs: (from: number) => string[];
  /** Each case the child reported, parsed from its JSON line. */
  onCase: (result: unknown) => void;
  /** Case `index`, on which the child was killed (`code` null) or exited with `code`. */
  onLost: (index: number, error: string) => void;
}

export async function runChildCases(o: ChildCasesOptions): Promise<void> {
  let next = 0;
  while (next < o.cases) {
    const child = spawn(process.execPath, o.childArgs(next), { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
    let buffer = '';
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => child.kill('SIGKILL'), o.hangMs);
    };
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line === 'ready') arm();
        if (!line.startsWith('{')) continue;
        o.onCase(JSON.parse(line));
        next++;
        arm();
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    if (next < o.cases && code !== 0) {
      o.onLost(next, code === null ? `hang: over ${o.hangMs} ms` : `crash: exit code ${code}`);
      next++;
    }
  }
}
