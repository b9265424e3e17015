/**
 * convkit for Node.js: `import * as ck from 'convkit/node'`. Everything in the browser entry,
 * plus what needs Node built-ins (the file system, zlib). A name exported here replaces the
 * browser entry's namesake: `ck.data` here adds file loading to the browser's `ck.data`.
 */
import './backend/webgpu/register.js';
import { installNodeGpuProvider } from './backend/webgpu/node-provider.js';
export * from './index.js';
/** ck.data with what needs Node.js: files, image folders, built-in datasets and the worker-thread image loader. */
export * as data from './data/node.js';

// The webgpu backend finds its GPU through the optional 'webgpu' package, loaded when selected.
installNodeGpuProvider();
