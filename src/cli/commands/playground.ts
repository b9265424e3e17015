import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ConvkitError } from '../../tensor/errors.js';
import { action } from '../run.js';

/**
 * `convkit playground [--port N]`: serves the built playground (dist/web/, made by
 * `npm run build:web`) on 127.0.0.1 and prints its URL. A few lines of node:http rather than a
 * dependency: static files, plus the two headers that make the page cross-origin isolated
 * (COOP/COEP), without which browsers give no SharedArrayBuffer and the wasm backend runs on
 * one thread. Everything is local, so the page works offline.
 */

/** dist/web/ of this checkout or package: the same relative place from src/cli/commands and dist/cli/commands. */
export const PLAYGROUND_DIR = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  // The datasets are gzipped IDX files that the page decompresses itself: no Content-Encoding.
  '.gz': 'application/octet-stream',
};

const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export interface PlaygroundServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Folder to serve (default PLAYGROUND_DIR). */
  root?: string;
  /** 0 picks a free port. */
  port?: number;
  host?: string;
}

/** The file a request path maps to inside root, or null when it would leave root. */
function resolvePath(root: string, urlPath: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split('?')[0]!.split('#')[0]!);
  } catch {
    return null;
  }
  const file = normalize(join(root, path));
  if (file !== root.replace(/[/\\]$/, '') && !file.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
  return existsSync(file) && statSync(file).isDirectory() ? join(file, 'index.html') : file;
}

/** Starts the static server; resolves once it listens. */
export async function servePlayground(opts: ServeOptions = {}): Promise<PlaygroundServer> {
  const root = normalize(opts.root ?? PLAYGROUND_DIR);
  const host = opts.host ?? '127.0.0.1';
  if (!existsSync(join(root, 'index.html'))) {
    throw new ConvkitError(`the playground is not built: ${join(root, 'index.html')} is missing; run \`npm run build:web\` (or \`npm run playground\`, which builds it)`);
  }
  const server: Server = createServer((req, res) => {
    const file = resolvePath(root, req.url ?? '/');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...ISOLATION }).end('not found\n');
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': body.length,
      'Cache-Control': 'no-cache',
      ...ISOLATION,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return await new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'EADDRINUSE'
          ? new ConvkitError(`port ${opts.port} on ${host} is already in use; pick another with --port N (or --port 0 for any free port)`)
          : e,
      );
    });
    server.listen(opts.port ?? 8080, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : (opts.port ?? 8080);
      resolve({
        url: `http://${host}:${port}/`,
        port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

/** A TCP port: 0 (any free one) to 65535. */
export function parsePort(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isSafeInteger(n) || n < 0 || n > 65535) throw new ConvkitError(`--port must be a port number from 1 to 65535 (or 0 for any free port), got '${v}'`);
  return n;
}

export function registerPlayground(program: Command): void {
  program
    .command('playground')
    .description('serve the browser playground (build it first with `npm run build:web`) on 127.0.0.1')
    .option('--port <n>', 'port to listen on, 1-65535 (0: any free port)', parsePort, 8080)
    .option('--dir <folder>', 'serve this built folder instead of dist/web')
    .action(
      action(async (flags: { port: number; dir?: string }) => {
        const server = await servePlayground({ port: flags.port, ...(flags.dir ? { root: flags.dir } : {}) });
        // The listening server keeps the process alive until Ctrl-C.
        process.stdout.write(`convkit playground: ${server.url}\n(Ctrl-C stops it)\n`);
      }),
    );
}
