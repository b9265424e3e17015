/**
 * The pipeline transforms; importing this file registers every built-in type, so that
 * transformFromJSON can rebuild any of them (workers import it for that).
 */
export { Transform, registerTransform, registeredTransforms, transformFromJSON, type TransformSpec, type JsonValue } from './transform.js';
export { Compose } from './compose.js';
export { Resize, CenterCrop, Pad, UniformAspect, ToChannels, Grayscale, Normalize, PcaTransform } from './preprocessing.js';
export { RandomCrop, RandomResizedCrop, type RandomCropOptions, type RandomResizedCropOptions } from './random-crop.js';
export { RandomHorizontalFlip, RandomVerticalFlip } from './random-flip.js';
export { RandomAffine, RandomRotation, RandomScale, type RandomAffineOptions } from './random-affine.js';
export { ColorJitter, type ColorJitterOptions } from './color-jitter.js';
export { RandomErasing, type RandomErasingOptions } from './random-erasing.js';
