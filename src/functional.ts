/**
 * `ck.F`: differentiable functional ops named as in torch.nn.functional (camelCased).
 * Parameters without a default in PyTorch are positional; the rest go into one trailing
 * options object. Each op lives in its own file under src/ops (losses under src/losses).
 */
export { add, sub, mul, div, pow, maximum, minimum } from './ops/binary.js';
export { sum, mean, amax, amin } from './ops/reduce.js';
