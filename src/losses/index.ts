/** Loss functions (also exported through ck.F with the other functional ops). */
export { crossEntropy, type CrossEntropyOptions } from './cross-entropy.js';
export { nllLoss, type NllLossOptions } from './nll-loss.js';
export { multiMarginLoss, type MultiMarginLossOptions } from './multi-margin-loss.js';
export { mseLoss } from './mse-loss.js';
export { NonFiniteLossError, type Reduction } from './loss-args.js';
