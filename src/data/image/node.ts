/**
 * Image I/O and datasets for Node (`ck.data.image` of 'convkit/node'): everything in ./index.ts,
 * plus decoding files with sharp, encoding PNG / JPEG / WebP, ImageFolder, the worker-thread
 * ImageLoader, and the folder-level jobs behind `convkit stats` and `convkit preprocess`.
 */
export * from './index.js';
export {
  decodeImage,
  decodeImageFile,
  decodeImageBytes,
  imageInfo,
  readImageFile,
  DEFAULT_MAX_PIXELS,
  type DecodeOptions,
} from './decode.js';
export { encodeImage, encodePng, writeImage, formatOfPath, type ImageFormat, type EncodeOptions } from './encode.js';
export {
  ImageFolder,
  IMAGE_EXTENSIONS,
  isImageFolder,
  scanImageFolder,
  classFolders,
  imageFolderSplit,
  type ImageFolderOptions,
  type ImageFile,
} from './image-folder.js';
export { ImageLoader, sampleSeed, type ImageLoaderOptions, type ImageLoaderState } from './image-loader.js';
export { ImageWorkerPool, sharedImagePool, defaultWorkers, type WorkerPoolOptions } from './worker-pool.js';
export { runSampleTask, runSampleTaskSync, type SampleTask, type SampleJob, type SampleResult } from './sample-task.js';
export { folderStatistics, writeStatistics, type FolderStatsOptions, type WrittenStatistics } from './folder-stats.js';
export { preprocessFolder, type PreprocessFolderOptions, type PreprocessFolderResult } from './preprocess-folder.js';
export { listImageFiles } from './list-images.js';
