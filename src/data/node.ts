/**
 * Datasets and loading with the Node-only parts (`ck.data` of 'convkit/node'): everything in
 * ./index.ts plus reading files (raw or gzipped), the embedded MNIST digits, Fashion-MNIST,
 * CIFAR-10 folders and the loadDataset resolver the CLI uses.
 */
export * from './index.js';
export {
  readDataFile,
  readIdxFile,
  loadIdxImages,
  idxFileNames,
  findFile,
  type IdxFilesOptions,
  type Split,
} from './data-files.js';
export { loadDigits, DIGITS_ASSET_DIR } from './digits.js';
export {
  loadFashionMnist,
  locateFashionMnist,
  FASHION_MNIST_SYSTEM_DIR,
  type FashionMnistOptions,
  type IdxSplitFiles,
} from './fashion-mnist.js';
export { loadCifar10, locateCifar10 } from './cifar10-files.js';
export { loadDataset, DATASET_NAMES, type DatasetName, type LoadDatasetOptions } from './builtin.js';
// ck.data.image with files (sharp), ImageFolder and the worker-thread ImageLoader.
/** ck.data.image with files (sharp), ImageFolder and the worker-thread ImageLoader. */
export * as image from './image/node.js';
export { ImageFolder, ImageLoader, type ImageFolderOptions, type ImageLoaderOptions } from './image/node.js';
