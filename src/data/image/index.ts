/**
 * Image preprocessing and augmentation, the browser-safe part (`ck.data.image`): images as
 * [C, H, W] tensors or ImageBuffers, crop / pad / resize / flip / affine / colour, grayscale,
 * normalization, streaming statistics, PCA and whitening, the transform pipeline, and browser
 * decoding (ImageData, canvas, ImageBitmap). Files, sharp and worker threads are in
 * 'convkit/node' (ck.data.image there adds decodeImage for files, encodePng, ImageFolder...).
 */
export {
  type ImageBuffer,
  type ImageLike,
  type ImageShape,
  imageBuffer,
  toImageBuffer,
  imageToTensor,
  shapeOf,
} from './image-buffer.js';
export { fromInterleaved, toInterleaved, quantize, dequantize, type PixelArray } from './pixels.js';
export { crop, centerCrop, cropToAspect, aspectCropSize, type Fill } from './crop.js';
export {
  pad,
  padToAspect,
  uniformAspect,
  type Padding,
  type PadMode,
  type PadOptions,
  type AspectMode,
  type UniformAspectOptions,
} from './pad.js';
export { resize, RESAMPLE_METHODS, type ResampleMethod, type ResizeOptions } from './resize.js';
export { hflip, vflip, rot90 } from './flip.js';
export {
  affine,
  rotate,
  warpAffine,
  affineMatrix,
  composeAffine,
  invertAffine,
  type AffineMatrix,
  type AffineParams,
  type WarpOptions,
} from './affine.js';
export { adjustBrightness, adjustContrast, adjustSaturation } from './color.js';
export { rgbToGrayscale, toChannels, LUMA } from './grayscale.js';
export { normalize, denormalize, normalizationFromStats, type Normalization } from './normalize.js';
export {
  ImageStatistics,
  computeStatistics,
  statsToJson,
  stdForDisplay,
  type ImageStats,
  type ImageStatsJson,
  datasetStatistics,
  datasetImages,
  type ImageSource,
} from './statistics.js';
export { symmetricEigen, type Eigen } from './symmetric-eigen.js';
export { Pca, fitPca, MAX_PCA_DIMENSIONS, type PcaJson, type PcaFitOptions, type Whitening } from './pca.js';
export { preprocessImage, preprocessedShape, InputPipeline, type PreprocessSpec, type InputPipelineJson } from './preprocess.js';
export {
  decodeImage,
  imageToBuffer,
  imageToTensor3d,
  imageDataOf,
  toImageData,
  type BrowserImageSource,
  type BrowserImageOptions,
  type ImageDataLike,
  type CanvasLike,
  type DrawableLike,
} from './browser.js';
export * from './transforms/index.js';
