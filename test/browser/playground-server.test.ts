import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { servePlayground, type PlaygroundServer } from '../../src/cli/commands/playground.js';

/** `convkit playground`'s static server (part of `npm test`): files, types, isolation headers, no escape. */

let dir: string;
let server: PlaygroundServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'convkit-web-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(dir, 'assets', 'k.wasm'), new Uint8Array([0, 97, 115, 109]));
  writeFileSync(join(dir, 'd.idx.gz'), new Uint8Array([0x1f, 0x8b, 8]));
  server = await servePlayground({ root: dir, port: 0 });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('playground server', () => {
  test('listens on 127.0.0.1 and serves the page cross-origin isolated', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  });

  test('wasm as application/wasm; gzipped data as bytes, not re-encoded', async () => {
    expect((await fetch(`${server.url}assets/k.wasm`)).headers.get('content-type')).toBe('application/wasm');
    const gz = await fetch(`${server.url}d.idx.gz`);
    expect(gz.headers.get('content-encoding')).toBeNull();
    expect([...new Uint8Array(await gz.arrayBuffer())]).toEqual([0x1f, 0x8b, 8]);
  });

  test('404 for missing files and for paths that leave the folder', async () => {
    expect((await fetch(`${server.url}nope.js`)).status).toBe(404);
    expect((await fetch(`${server.url}..%2f..%2fetc%2fpasswd`)).status).toBe(404);
  });

  test('a folder without a build is an error that says how to build', async () => {
    await expect(servePlayground({ root: join(dir, 'assets'), port: 0 })).rejects.toThrow(/npm run build:web/);
  });
});
