/**
 * Datasets and loading, the browser-safe part (`ck.data`): the Dataset interface, TensorDataset,
 * Subset, randomSplit, DataLoader, and parsers of the IDX (MNIST) and CIFAR-10 formats for bytes
 * already in memory. Reading files, the embedded digits and loadDataset are in 'convkit/node'.
 */
export { type Dataset, type Sample, TensorDataset, Subset, randomSplit } from './dataset.js';
export { ImageDataset } from './image-dataset.js';
export {
  DataLoader,
  type Batch,
  type DataLoaderOptions,
  type DataLoaderState,
  type SampleTransform,
} from './data-loader.js';
export { parseIdx, isGzip, idxImageDataset, type IdxArray, type IdxDType, type IdxData, type IdxPairOptions } from './idx.js';
export { cifar10Dataset, CIFAR10_RECORD_BYTES, type Cifar10Batch } from './cifar10.js';
export { DIGITS_CLASSES, FASHION_MNIST_CLASSES, CIFAR10_CLASSES } from './class-names.js';
export { IMAGENET_CLASSES, IMAGENET_MEAN, IMAGENET_STD, imagenetPreprocess, type ImagenetPreprocessOptions } from './imagenet.js';
// Image preprocessing and augmentation (ck.data.image); ImageFolder and files are in 'convkit/node'.
/** Image preprocessing and augmentation (transforms, pipelines, statistics). */
export * as image from './image/index.js';
