import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';

/**
 * Issue #2 acceptance: "a table-driven test of at least 30 invalid calls ... each giving a
 * ConvkitError with the numbers in its message, none giving a crash or a silently wrong result".
 *
 * Each row is a call that must throw a ConvkitError (not a TypeError from deep inside, not a
 * result) whose message contains every pattern, including the actual numbers involved, so that
 * a person can act on it. The rows span tensors, every op family, layers' constructors,
 * optimizers, state dicts, autograd and module paths.
 */

const { F, nn } = ck;
const z = (...shape: number[]) => ck.zeros(shape);
const labels = (v: number[], shape = [v.length]) => ck.tensor(v, shape, { dtype: 'int32' });
const param = () => ck.zeros([2], { requiresGrad: true });
/** Literal text inside a regex (shapes like `[2, 3]` hold regex metacharacters). */
const lit = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

interface Row {
  name: string;
  run: () => unknown;
  /** Strings or regexes that must all appear in the message. */
  says: (string | RegExp)[];
  /** Why the message has no number to show (the row's facts are names, not sizes). */
  noNumber?: string;
}

const ROWS: Row[] = [
  // --- tensors: creation, views, permutations
  { name: 'tensor() with 5 values for shape [2, 3]', run: () => ck.tensor([1, 2, 3, 4, 5], [2, 3]), says: ['5 values', '[2, 3]', '6 elements'] },
  { name: 'tensor() from a ragged nested array', run: () => ck.tensor([[1, 2], [3]] as unknown as number[][]), says: ['ragged', 'data[1]', 'expected 2', 'got 1'] },
  { name: 'zeros with a negative size', run: () => ck.zeros([2, -3]), says: ['[2, -3]', 'non-negative integers', 'got -3'] },
  { name: 'zeros with a fractional size', run: () => ck.zeros([2.5]), says: ['[2.5]', 'got 2.5'] },
  { name: 'zeros with a bare number instead of a shape', run: () => ck.zeros(3 as unknown as number[]), says: ['array of sizes', 'got 3'] },
  { name: 'view with two -1s', run: () => z(2, 3, 4).view(-1, -1, 2), says: ['[2, 3, 4]', '[-1, -1, 2]', 'only one dimension can be -1', 'got 2'] },
  { name: 'view to a different element count', run: () => z(2, 3, 4).view(5, 5), says: ['[2, 3, 4] (24 elements)', '[5, 5] (25 elements)'] },
  { name: 'view whose -1 cannot be inferred', run: () => z(2, 3, 4).view(-1, 5), says: ['24 is not divisible by 5'] },
  { name: 'view with a size of -2', run: () => z(2, 3, 4).view(-2, 12), says: ['[-2, 12]', 'invalid size -2'] },
  { name: 'view of a non-contiguous tensor', run: () => z(2, 3).transpose(0, 1).view(6), says: ['[3, 2] -> [6]', 'not contiguous', 'strides [1, 3]', '.contiguous()'] },
  { name: 'permute naming a dimension twice', run: () => z(2, 3, 4).permute(0, 0, 1), says: ['3-d tensor [2, 3, 4]', 'exactly once', 'got [0, 0, 1]'] },
  { name: 'permute with too few dimensions', run: () => z(2, 3, 4).permute(0, 1), says: ['[2, 3, 4]', 'got [0, 1]'] },
  { name: 'transpose of a dimension out of range', run: () => z(2, 3).transpose(0, 2), says: ['dim 2 is out of range', '2 dimensions', '-2..1'] },
  { name: 'item() of a 6-element tensor', run: () => z(2, 3).item(), says: ['one element', '[2, 3]'] },
  { name: 'int32 tensor requiring grad', run: () => ck.tensor([1, 2], [2], { dtype: 'int32', requiresGrad: true }), says: ['float32', 'gradients'] },
  { name: 'randint with high == low', run: () => ck.randint(5, 5, [2]), says: ['high (5)', 'low (5)'] },
  { name: 'manualSeed(NaN)', run: () => ck.manualSeed(NaN), says: ['seed', 'NaN'] },

  // --- conv2d / convTranspose2d
  {
    name: 'conv2d with a non-integer output size',
    run: () => F.conv2d(z(1, 1, 10, 10), z(1, 1, 3, 3), undefined, { stride: 2 }),
    says: ['conv2d', 'height', '(10 - 3 + 2*0)/2 + 1 = 4.5', 'not an integer', "fit: 'floor'"],
  },
  {
    name: 'conv2d with the wrong channel count',
    run: () => F.conv2d(z(1, 3, 8, 8), z(4, 2, 3, 3)),
    says: ['expected 2 input channels, got 3', '[1, 3, 8, 8]', '[4, 2, 3, 3]'],
  },
  {
    name: 'conv2d whose groups do not divide the output channels',
    run: () => F.conv2d(z(1, 6, 8, 8), z(4, 2, 3, 3), undefined, { groups: 3 }),
    says: ['groups 3', 'input channels (6)', 'output channels (4)'],
  },
  {
    name: 'conv2d whose weight times groups misses the input channels',
    run: () => F.conv2d(z(1, 6, 8, 8), z(4, 2, 3, 3), undefined, { groups: 4 }),
    says: ['expected 8 input channels, got 6', 'groups 4', '2 * 4'],
  },
  {
    name: 'conv2d with a kernel bigger than the input',
    run: () => F.conv2d(z(1, 1, 4, 4), z(1, 1, 5, 5)),
    says: ['window (5)', 'padded input (4 + 0 padding = 4)'],
  },
  { name: 'conv2d with negative padding', run: () => F.conv2d(z(1, 1, 8, 8), z(1, 1, 3, 3), undefined, { padding: -1 }), says: ['conv2d', 'padding', 'got -1'] },
  { name: 'conv2d with fractional padding', run: () => F.conv2d(z(1, 1, 8, 8), z(1, 1, 3, 3), undefined, { padding: 1.5 }), says: ['padding', 'got 1.5'] },
  { name: 'conv2d with dilation 0', run: () => F.conv2d(z(1, 1, 8, 8), z(1, 1, 3, 3), undefined, { dilation: 0 }), says: ['dilation', 'positive integer', 'got 0'] },
  { name: 'conv2d with stride 0', run: () => F.conv2d(z(1, 1, 8, 8), z(1, 1, 3, 3), undefined, { stride: 0 }), says: ['stride', 'got 0'] },
  { name: 'conv2d with groups 0', run: () => F.conv2d(z(1, 2, 8, 8), z(2, 2, 3, 3), undefined, { groups: 0 }), says: ['groups', 'got 0'] },
  { name: 'conv2d on a 3-d input', run: () => F.conv2d(z(1, 8, 8), z(1, 1, 3, 3)), says: ['4-d (N, C, H, W)', '[1, 8, 8]', '.view(1, C, H, W)'] },
  { name: 'conv2d with a bias of the wrong length', run: () => F.conv2d(z(1, 1, 8, 8), z(2, 1, 3, 3), z(3)), says: ['bias', 'shape [2]', 'got [3]'] },
  { name: "conv2d with padding 'same' and stride 2", run: () => F.conv2d(z(1, 1, 8, 8), z(1, 1, 3, 3), undefined, { padding: 'same', stride: 2 }), says: ["'same'", 'stride [2, 2]'] },
  { name: 'conv2d with a 3-element stride', run: () => F.conv2d(z(1, 1, 8, 8), z(1, 1, 3, 3), undefined, { stride: [1, 2, 3] as unknown as [number, number] }), says: ['stride', '[1,2,3]'] },
  { name: 'conv2d on int32 input', run: () => F.conv2d(ck.zeros([1, 1, 4, 4], { dtype: 'int32' }), z(1, 1, 3, 3)), says: ['float32', 'int32', '[1, 1, 4, 4]'] },
  {
    name: 'convTranspose2d with outputPadding not below the stride',
    run: () => F.convTranspose2d(z(1, 2, 4, 4), z(2, 3, 3, 3), undefined, { stride: 2, outputPadding: 2 }),
    says: ['outputPadding 2', 'stride (2)'],
  },
  { name: 'convTranspose2d with the wrong channel count', run: () => F.convTranspose2d(z(1, 3, 4, 4), z(2, 3, 3, 3)), says: ['expected 2 input channels, got 3', '[2, 3, 3, 3]'] },

  // --- pooling
  { name: 'maxPool2d with padding above half the kernel', run: () => F.maxPool2d(z(1, 1, 8, 8), 2, { padding: 2 }), says: ['padding 2', 'kernel size 2', 'floor(2/2) = 1'] },
  { name: 'maxPool2d with a non-integer output size', run: () => F.maxPool2d(z(1, 1, 7, 7), 2), says: ['maxPool2d', '(7 - 2 + 2*0)/2 + 1 = 3.5'] },
  { name: 'maxPool2d with kernel 0', run: () => F.maxPool2d(z(1, 1, 8, 8), 0), says: ['kernelSize', 'got 0'] },
  { name: 'maxPool2d with a window larger than the input', run: () => F.maxPool2d(z(1, 1, 2, 2), 3), says: ['window (3)', '(2 + 0 padding = 2)'] },
  { name: 'avgPool2d with a non-integer output size', run: () => F.avgPool2d(z(1, 1, 7, 7), 2), says: ['avgPool2d', '= 3.5'] },
  { name: 'avgPool2d with padding above half the kernel', run: () => F.avgPool2d(z(1, 1, 8, 8), 3, { stride: 1, padding: 2 }), says: ['padding 2', 'kernel size 3'] },
  { name: 'avgPool2d with divisorOverride 0', run: () => F.avgPool2d(z(1, 1, 8, 8), 2, { divisorOverride: 0 }), says: ['divisorOverride', 'got 0'] },
  { name: 'lpPool2d with normType 0', run: () => F.lpPool2d(z(1, 1, 8, 8), 0, 2), says: ['normType', 'got 0'] },
  { name: 'adaptiveAvgPool2d to size 0', run: () => F.adaptiveAvgPool2d(z(1, 1, 4, 4), 0), says: ['outputSize', 'got 0'] },

  // --- normalization
  {
    name: 'batchNorm with running stats for 4 channels on a 3-channel input',
    run: () => F.batchNorm(z(2, 3, 4, 4), z(4), ck.ones([4])),
    says: ['runningMean', 'shape [3]', '[2, 3, 4, 4]', 'got float32 [4]'],
  },
  {
    name: 'batchNorm training on a batch of 1 with 1x1 images',
    run: () => F.batchNorm(z(1, 3, 1, 1), null, null, { training: true }),
    says: ['more than 1 value per channel', '[1, 3, 1, 1]'],
  },
  { name: 'batchNorm with eps -1', run: () => F.batchNorm(z(2, 3, 4, 4), null, null, { training: true, eps: -1 }), says: ['eps', 'got -1'] },
  { name: 'localResponseNorm with size 0', run: () => F.localResponseNorm(z(1, 3, 4, 4), 0), says: ['size', 'got 0'] },

  // --- linear algebra, shapes, softmax
  { name: 'linear with mismatched in-features', run: () => F.linear(z(2, 5), z(3, 4)), says: ['expected 4 input features, got 5', '[2, 5]', '[3, 4]'] },
  { name: 'linear with a bias of the wrong length', run: () => F.linear(z(2, 4), z(3, 4), z(2)), says: ['bias', 'shape [3]', 'got [2]'] },
  { name: 'matmul with different inner dimensions', run: () => ck.matmul(z(2, 3), z(4, 5)), says: ['[2, 3] @ [4, 5]', '3 vs 4'] },
  { name: 'cat of shapes differing outside the cat dimension', run: () => ck.cat([z(2, 3), z(2, 4)], 0), says: ['[2, 4]', '[2, 3]', 'dimension 1: 4 vs 3'] },
  { name: 'cat of tensors with different ranks', run: () => ck.cat([z(2, 3), z(2, 3, 1)], 0), says: ['3 dimensions', '[2, 3, 1]', '[2, 3]'] },
  { name: 'add of shapes that cannot broadcast', run: () => F.add(z(2, 3), z(4)), says: ['[2, 3]', '[4]', '3 vs 4'] },
  { name: 'sum over a dimension out of range', run: () => F.sum(z(2), 3), says: ['dim 3', '-1..0'] },
  { name: 'softmax over a dimension out of range', run: () => F.softmax(z(2, 3), 2), says: ['softmax', 'dim 2', '2 dimensions'] },
  { name: 'logSoftmax over dim -3 of a 2-d tensor', run: () => F.logSoftmax(z(2, 3), -3), says: ['logSoftmax', 'dim -3'] },
  { name: 'flatten with startDim after endDim', run: () => F.flatten(z(2, 3), { startDim: 1, endDim: 0 }), says: ['startDim (1', 'endDim (0', '[2, 3]'] },
  { name: 'pad cropping a dimension to nothing', run: () => F.pad(z(1, 1, 3, 3), [-2, -2, 0, 0]), says: ['crops', 'width 3 -> -1'] },
  { name: 'reflect pad as wide as the input', run: () => F.pad(z(1, 1, 3, 3), [3, 3, 3, 3], { mode: 'reflect' }), says: ['reflect', 'padding of 3', 'height 3'] },
  { name: 'pad with 3 numbers', run: () => F.pad(z(1, 1, 3, 3), [1, 1, 1]), says: ['2 integers', 'got [1,1,1]'] },
  { name: 'topk with k larger than the dimension', run: () => ck.topk(z(2, 3), 4), says: ['k', '0..3', 'got 4'] },
  { name: 'gather with an index out of range', run: () => F.gather(z(2, 3), 1, labels([0, 5], [2, 1])), says: ['index 5', '[1, 0]', 'size 3', '0..2'] },
  { name: 'prelu with a weight per 2 channels on 3', run: () => F.prelu(z(2, 3, 4), z(2)), says: ['weight [2]', '(3, axis 1'] },

  // --- losses and dropout
  { name: 'crossEntropy with a target of 3 for 3 classes', run: () => F.crossEntropy(z(2, 3), labels([0, 3])), says: ['target 3', 'position [1]', '3 classes', '0..2'] },
  { name: 'crossEntropy with a target of -1', run: () => F.crossEntropy(z(2, 3), labels([0, -1])), says: ['target -1', 'position [1]'] },
  {
    name: 'crossEntropy with NaN logits',
    run: () => F.crossEntropy(ck.tensor([0, NaN, 0, 0, 0, 0], [2, 3]), labels([0, 1])),
    says: ['NaN', 'position [0, 1]', 'shape [2, 3]'],
  },
  {
    name: 'crossEntropy with infinite logits',
    run: () => F.crossEntropy(ck.tensor([0, 0, 0, 0, -Infinity, 0], [2, 3]), labels([0, 1])),
    says: ['Infinity', 'position [1, 1]'],
  },
  {
    name: 'crossEntropy with a float target of the wrong shape',
    run: () => F.crossEntropy(z(2, 3), z(2, 4)),
    says: ['float32 target', "logits' shape [2, 3]", 'got [2, 4]', 'int32'],
  },
  { name: 'crossEntropy with 3 targets for 2 samples', run: () => F.crossEntropy(z(2, 3), labels([0, 1, 2])), says: ['target has shape [3]', 'needs [2]'] },
  { name: 'crossEntropy with labelSmoothing 1.5', run: () => F.crossEntropy(z(2, 3), labels([0, 1]), { labelSmoothing: 1.5 }), says: ['labelSmoothing', '[0, 1]', 'got 1.5'] },
  { name: 'crossEntropy with 4 class weights for 3 classes', run: () => F.crossEntropy(z(2, 3), labels([0, 1]), { weight: z(4) }), says: ['weight', 'shape [3]', 'float32 [4]'] },
  { name: 'multiMarginLoss with p = 3', run: () => F.multiMarginLoss(z(2, 3), labels([0, 1]), { p: 3 as 1 }), says: ['p must be 1 or 2', 'got 3'] },
  { name: 'multiMarginLoss with a target of 5 for 3 classes', run: () => F.multiMarginLoss(z(2, 3), labels([0, 5])), says: ['target 5', '3 classes'] },
  { name: 'nllLoss with NaN input', run: () => F.nllLoss(ck.tensor([0, 0, 0, 0, NaN, 0], [2, 3]), labels([0, 1])), says: ['NaN', 'position [1, 1]'] },
  { name: 'mseLoss of transposed shapes', run: () => F.mseLoss(z(2, 3), z(3, 2)), says: ['input [2, 3]', 'target [3, 2]'] },
  { name: 'dropout with p = 1.5', run: () => F.dropout(z(2, 3), { p: 1.5 }), says: ['[0, 1)', 'got 1.5'] },
  { name: 'dropout with p = 1', run: () => F.dropout(z(2, 3), { p: 1 }), says: ['got 1', 'drop everything'] },

  // --- layers: constructor arguments, and errors raised in forward naming the module's path
  { name: 'Conv2d(3, 0, 3)', run: () => new nn.Conv2d(3, 0, 3), says: ['Conv2d', 'outChannels', 'got 0'] },
  { name: 'Conv2d with a 2.5 kernel', run: () => new nn.Conv2d(3, 4, 2.5), says: ['kernelSize', 'got 2.5'] },
  { name: 'Conv2d(3, 4, 3, {groups: 2})', run: () => new nn.Conv2d(3, 4, 3, { groups: 2 }), says: ['groups 2', 'inChannels (3)', 'outChannels (4)'] },
  { name: 'Linear(-1, 2)', run: () => new nn.Linear(-1, 2), says: ['Linear', 'inFeatures', 'got -1'] },
  { name: 'MaxPool2d(0)', run: () => new nn.MaxPool2d(0), says: ['MaxPool2d', 'kernelSize', 'got 0'] },
  { name: 'MaxPool2d(2, {padding: 3})', run: () => new nn.MaxPool2d(2, { padding: 3 }), says: ['padding 3', 'kernel size 2'] },
  { name: 'BatchNorm2d(0)', run: () => new nn.BatchNorm2d(0), says: ['BatchNorm2d', 'numFeatures', 'got 0'] },
  { name: 'Dropout(1.5)', run: () => new nn.Dropout(1.5), says: ['Dropout', 'got 1.5'] },
  {
    name: 'Conv2d inside Sequential fed 1 channel names its path',
    run: () => new nn.Sequential(new nn.ReLU(), new nn.Conv2d(3, 4, 3)).forward(z(1, 1, 8, 8)),
    says: [/^1 \(Conv2d\): /, 'expected 3 input channels, got 1', '[1, 1, 8, 8]'],
  },
  {
    name: 'Linear nested two Sequentials deep names its dotted path',
    run: () => new nn.Sequential(new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.Linear(5, 2))).forward(z(1, 1, 8, 8)),
    says: [/^0\.1 \(Linear\): /, 'expected 5 input features, got 6', '144'],
  },
  {
    name: 'BatchNorm2d(4) fed 3 channels names its path',
    run: () => new nn.Sequential(new nn.Conv2d(1, 3, 3), new nn.BatchNorm2d(4)).forward(z(2, 1, 6, 6)),
    says: [/^1 \(BatchNorm2d\): /, 'expected 4 channels', 'got 3'],
  },

  // --- optimizers
  { name: 'SGD with lr -0.1', run: () => new ck.optim.SGD([param()], { lr: -0.1 }), says: ['SGD', 'lr -0.1', '>= 0'] },
  { name: 'SGD with momentum 1.5', run: () => new ck.optim.SGD([param()], { lr: 0.1, momentum: 1.5 }), says: ['momentum 1.5', '[0, 1)'] },
  {
    name: 'SGD lr set to NaN after construction',
    run: () => {
      const opt = new ck.optim.SGD([param()], { lr: 0.1 });
      opt.lr = NaN;
    },
    says: ['SGD', 'lr NaN'],
  },
  { name: 'Adam with betas[1] = 1.2', run: () => new ck.optim.Adam([param()], { lr: 0.1, betas: [0.9, 1.2] }), says: ['Adam', 'betas[1] 1.2'] },
  { name: 'SGD nesterov without momentum', run: () => new ck.optim.SGD([param()], { lr: 0.1, nesterov: true }), says: ['nesterov', 'momentum 0'] },

  // --- state dicts
  { name: 'loadStateDict missing a key', run: () => new nn.Linear(3, 2).loadStateDict({ weight: z(2, 3) }), says: ['missing keys: bias'], noNumber: 'the fact is the key name' },
  { name: 'loadStateDict with an unexpected key', run: () => new nn.Linear(3, 2).loadStateDict({ weight: z(2, 3), bias: z(2), extra: z(1) }), says: ['unexpected keys: extra'], noNumber: 'the fact is the key name' },
  { name: 'loadStateDict with a mis-shaped weight', run: () => new nn.Linear(3, 2).loadStateDict({ weight: z(3, 2), bias: z(2) }), says: ['weight', 'expected shape [2, 3]', 'got [3, 2]'] },
  {
    name: 'loadStateDict with a plain array for a tensor',
    run: () => new nn.Linear(3, 2).loadStateDict({ weight: [1, 2] as unknown as ck.Tensor, bias: z(2) }),
    says: ['weight', 'expected a Tensor', 'array'],
    noNumber: 'the fact is the type of the value',
  },

  // --- autograd
  {
    name: 'backward() on a [2] tensor without a gradient',
    run: () => F.mul(ck.tensor([1, 2], [2], { requiresGrad: true }), 2).backward(),
    says: ['backward()', 'scalar', 'shape [2]'],
  },
  {
    name: 'backward() with a gradient of the wrong shape',
    run: () => F.mul(ck.tensor([1, 2], [2], { requiresGrad: true }), 2).backward(z(3)),
    says: ['gradient shape [3]', 'output shape [2]'],
  },
  { name: 'Trainer with 0 epochs', run: () => new ck.train.Trainer(new nn.ReLU(), { train: { length: 0, *[Symbol.iterator]() {} }, optimizer: new ck.optim.SGD([param()], { lr: 1 }), epochs: 0 }), says: ['epochs', 'got 0'] },
  { name: 'an unknown backend', run: () => ck.setBackendSync('cuda'), says: ["'cuda'", 'registered backends: js'], noNumber: 'the facts are backend names' },
];

describe('bad input gives a ConvkitError with the numbers involved', () => {
  it('the table is large and every row names at least one number', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(ROWS.map((r) => r.name)).size, 'row names are unique').toBe(ROWS.length);
    // "with the numbers in its message": each row pins at least one number or shape.
    for (const r of ROWS) {
      if (r.noNumber === undefined) expect(r.says.some((p) => /\d|NaN|Infinity/.test(String(p))), r.name).toBe(true);
    }
    expect(ROWS.filter((r) => r.noNumber !== undefined).length).toBeLessThanOrEqual(5);
    console.log(`bad-input rows: ${ROWS.length}`);
  });

  it.each(ROWS.map((r) => [r.name, r] as const))('%s', (_, row) => {
    const backend = ck.getBackendName();
    expectConvkitError(row.run, ...row.says.map((p) => (typeof p === 'string' ? lit(p) : p)));
    // A failed call must not leave global state changed behind it (e.g. the selected backend).
    expect(ck.getBackendName()).toBe(backend);
  });

  it('a rejected loadStateDict changes nothing, even the keys that were fine', () => {
    const layer = new nn.Linear(3, 2);
    const before = [...layer.stateDict().values()].map((t) => t.dataSync());
    expectConvkitError(() => layer.loadStateDict({ weight: ck.ones([2, 3]), bias: z(3) }), 'bias', 'expected shape [2]', 'got [3]');
    const after = [...layer.stateDict().values()].map((t) => t.dataSync());
    expect(after).toEqual(before);
  });
});
