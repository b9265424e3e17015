import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { expectConvkitError } from '../helpers/assert.js';

const { DataLoader, TensorDataset, Subset, randomSplit } = ck.data;

/** n samples of shape [1, 2, 2]; every value of sample i is i, its label i % 10. */
function numbered(n: number): ck.data.TensorDataset {
  const x = new Float32Array(n * 4).map((_, k) => Math.floor(k / 4));
  const y = new Int32Array(n).map((_, i) => i % 10);
  return new TensorDataset(ck.tensor(x, [n, 1, 2, 2]), ck.tensor(y, [n]));
}

/** The sample ids of every batch of one epoch, read from the batch values themselves. */
function epochIds(loader: ck.data.DataLoader): number[][] {
  return [...loader].map(({ x }) => {
    const v = x.dataSync();
    return Array.from({ length: x.shape[0]! }, (_, i) => v[i * 4]!);
  });
}

describe('DataLoader', () => {
  it('assembles [B, C, H, W] float32 inputs and [B] int32 labels, with a short last batch', () => {
    const loader = new DataLoader(numbered(10), { batchSize: 4 });
    expect(loader.length).toBe(3);
    const batches = [...loader];
    expect(batches.map((b) => b.x.shape)).toEqual([[4, 1, 2, 2], [4, 1, 2, 2], [2, 1, 2, 2]]);
    expect(batches.map((b) => b.y.shape)).toEqual([[4], [4], [2]]);
    expect(batches[0]!.x.dtype).toBe('float32');
    expect(batches[0]!.y.dtype).toBe('int32');
    expect(Array.from(batches[2]!.y.dataSync())).toEqual([8, 9]);
    expect(Array.from(batches[1]!.indices)).toEqual([4, 5, 6, 7]);
    expect(epochIds(loader)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  });

  it('dropLast drops the short batch', () => {
    const loader = new DataLoader(numbered(10), { batchSize: 4, dropLast: true });
    expect(loader.length).toBe(2);
    expect(epochIds(loader)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    expect(new DataLoader(numbered(8), { batchSize: 4, dropLast: true }).length).toBe(2);
  });

  it('stochastic (batch 1), mini-batch and full-batch regimes are batch sizes', () => {
    const ds = numbered(7);
    const sgd = new DataLoader(ds);
    expect(sgd.batchSize).toBe(1);
    expect([...sgd].map((b) => b.x.shape)).toEqual(Array.from({ length: 7 }, () => [1, 1, 2, 2]));
    const full = [...new DataLoader(ds, { batchSize: ds.length })];
    expect(full.length).toBe(1);
    expect(full[0]!.x.shape).toEqual([7, 1, 2, 2]);
    expect(new DataLoader(ds, { batchSize: 3 }).length).toBe(3);
    expectConvkitError(() => new DataLoader(ds, { batchSize: 0 }), /batchSize/, /got 0/);
    expectConvkitError(() => new DataLoader(ds, { batchSize: 2.5 }), /batchSize/);
  });

  it('seeded shuffles: same seed same order, different seed different, every index once per epoch', () => {
    const ds = numbered(50);
    const order = (seed: number): number[][] =>
      epochIds(new DataLoader(ds, { batchSize: 8, shuffle: true, generator: new ck.Generator(seed) }));
    const a = order(1);
    expect(order(1)).toEqual(a);
    expect(order(2)).not.toEqual(a);
    expect(a.flat().sort((p, q) => p - q)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a.flat()).not.toEqual(Array.from({ length: 50 }, (_, i) => i));

    const loader = new DataLoader(ds, { batchSize: 8, shuffle: true, generator: new ck.Generator(3) });
    const e1 = epochIds(loader).flat();
    const e2 = epochIds(loader).flat();
    expect(loader.epoch).toBe(2);
    expect(e2).not.toEqual(e1);
    expect([...e2].sort((p, q) => p - q)).toEqual([...e1].sort((p, q) => p - q));
  });

  it('without a generator, shuffles draw from the global one (manualSeed)', () => {
    const ds = numbered(30);
    ck.manualSeed(42);
    const a = epochIds(new DataLoader(ds, { batchSize: 5, shuffle: true }));
    ck.manualSeed(42);
    expect(epochIds(new DataLoader(ds, { batchSize: 5, shuffle: true }))).toEqual(a);
  });

  it('resumes mid-epoch from state(): the same batches and transforms as an uninterrupted run', () => {
    const ds = numbered(20);
    // A transform that draws randomness, so resuming must restore the generator exactly.
    const transform = (x: Float32Array, g: ck.Generator): void => {
      x[1] = g.uniform();
    };
    const make = (): ck.data.DataLoader =>
      new DataLoader(ds, { batchSize: 3, shuffle: true, transform, generator: new ck.Generator(7) });
    const flat = (b: ck.data.Batch): number[] => Array.from(b.x.dataSync());

    const reference = make();
    const expected = [...[...reference].map(flat), ...[...reference].map(flat)];

    const first = make();
    const got: number[][] = [];
    let saved: ck.data.DataLoaderState | null = null;
    for (const b of first) {
      got.push(flat(b));
      if (got.length === 4) {
        saved = JSON.parse(JSON.stringify(first.state())) as ck.data.DataLoaderState;
        break;
      }
    }
    expect(saved!.epoch).toBe(1);
    expect(saved!.batch).toBe(4);
    const resumed = make();
    resumed.loadState(saved!);
    for (const b of resumed) got.push(flat(b));
    for (const b of resumed) got.push(flat(b));
    expect(resumed.epoch).toBe(2);
    expect(got).toEqual(expected);

    // A state saved at the end of an epoch resumes at the start of the next one.
    const done = make();
    for (const _ of done) void _;
    const atEnd = done.state();
    const next = make();
    next.loadState(atEnd);
    expect([...next].map(flat)).toEqual(expected.slice(7));

    expectConvkitError(() => new DataLoader(ds, { batchSize: 4 }).loadState(atEnd), /batch size 3 over 20/, /batch size 4/);
  });

  it('applies the per-sample transform hook to each sample in place', () => {
    const loader = new DataLoader(numbered(4), {
      batchSize: 2,
      transform: (x, _g, shape) => {
        expect(shape).toEqual([1, 2, 2]);
        x[0] = -1;
      },
    });
    const [b] = [...loader];
    expect(Array.from(b!.x.dataSync())).toEqual([-1, 0, 0, 0, -1, 1, 1, 1]);
  });

  it('reads datasets that only implement get()', () => {
    const plain: ck.data.Dataset = {
      length: 3,
      sampleShape: [2],
      get: (i) => ({ input: new Float32Array([i, -i]), label: i }),
    };
    const [b] = [...new DataLoader(plain, { batchSize: 3 })];
    expect(b!.x.shape).toEqual([3, 2]);
    expect(Array.from(b!.x.dataSync())).toEqual([0, -0, 1, -1, 2, -2]);
    const bad: ck.data.Dataset = { ...plain, get: (i) => ({ input: new Float32Array(i + 1), label: 0 }) };
    expectConvkitError(() => [...new DataLoader(bad, { batchSize: 3 })], /sample 0 has 1 values/, /needs 2/);
  });
});

describe('TensorDataset, Subset, randomSplit', () => {
  it('TensorDataset checks its tensors and hands out copies', () => {
    const ds = numbered(3);
    const s = ds.get(1);
    expect(Array.from(s.input)).toEqual([1, 1, 1, 1]);
    s.input[0] = 99;
    expect(ds.get(1).input[0]).toBe(1);
    expectConvkitError(() => new TensorDataset(ck.zeros([3, 2]), ck.zeros([4])), /inputs \[3, 2\]/, /labels \[4\]/);
    expectConvkitError(() => new TensorDataset(ck.zeros([2, 2]), ck.tensor([0, 1.5])), /label 1 is 1.5/);
    expectConvkitError(() => ds.get(3), /index 3 is out of range/, /3 samples/);
  });

  it('Subset reads the chosen samples in order', () => {
    const sub = new Subset(numbered(10), [7, 2, 5]);
    expect(sub.length).toBe(3);
    expect(sub.get(1).label).toBe(2);
    expect(epochIds(new DataLoader(sub, { batchSize: 3 }))).toEqual([[7, 2, 5]]);
    expectConvkitError(() => new Subset(numbered(3), [0, 3]), /position 1/, /index 3/);
  });

  it('randomSplit gives disjoint, covering, seeded subsets by counts or fractions', () => {
    const ds = numbered(100);
    const [train, val] = randomSplit(ds, [80, 20], new ck.Generator(5));
    expect([train!.length, val!.length]).toEqual([80, 20]);
    const all = [...train!.indices, ...val!.indices].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const [again] = randomSplit(ds, [80, 20], new ck.Generator(5));
    expect(Array.from(again!.indices)).toEqual(Array.from(train!.indices));
    const [other] = randomSplit(ds, [80, 20], new ck.Generator(6));
    expect(Array.from(other!.indices)).not.toEqual(Array.from(train!.indices));
    expect(randomSplit(numbered(10), [0.5, 0.3, 0.2]).map((s) => s.length)).toEqual([5, 3, 2]);
    expect(randomSplit(numbered(11), [0.5, 0.5]).map((s) => s.length)).toEqual([6, 5]);
    expectConvkitError(() => randomSplit(ds, [50, 20]), /sum to 70/, /100 samples/);
  });
});
