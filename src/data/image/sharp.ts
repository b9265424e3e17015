import { ConvkitError } from '../../tensor/errors.js';

/**
 * sharp, loaded on first use: it is a native module that only Node code paths need, so the
 * library loads (and the browser entry bundles) without it, and a missing install is a clear
 * error at the moment an image file is read.
 */

export type Sharp = typeof import('sharp').default;
let sharpModule: Promise<Sharp> | null = null;

export function loadSharp(): Promise<Sharp> {
  sharpModule ??= import('sharp').then(
    (m) => m.default,
    (e: unknown) => {
      sharpModule = null;
      throw new ConvkitError(
        `reading image files needs the sharp package, which failed to load (${(e as Error).message}); ` +
          'install it with `npm install sharp` (it ships prebuilt binaries for Linux, macOS and Windows)',
      );
    },
  );
  return sharpModule;
}
