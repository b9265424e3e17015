import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { Trainer, type TrainerOptions } from '../../src/train/trainer.js';
import { makeScheduler } from '../../src/cli/optimizer-spec.js';
import { expectConvkitError } from '../helpers/assert.js';

/** ModelEma against hand-computed averages, and in the Trainer: validation on the average, bit-exact resume. */

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const values = (m: ck.nn.Module) => Object.fromEntries([...m.stateDict()].map(([k, t]) => [k, Array.from(t.dataSync())]));

function setWeights(m: ck.nn.Module, w: Record<string, number[]>): void {
  const own = m.stateDict();
  m.loadStateDict(new Map(Object.entries(w).map(([k, v]) => [k, ck.tensor(Float32Array.from(v), own.get(k)!.shape)])));
}

describe('ModelEma', () => {
  it('averages every float tensor (weights and batch-norm running statistics) as decay * ema + (1 - decay) * w', () => {
    const model = new ck.nn.Sequential(new ck.nn.Linear(2, 1), new ck.nn.BatchNorm1d(1));
    const names = Object.keys(values(model));
    expect(names).toEqual(expect.arrayContaining(['0.weight', '0.bias', '1.running_mean', '1.running_var']));
    const start = values(model);
    const ema = new ck.train.ModelEma(model, { decay: 0.75 });
    // Step 1: new weights; the average is 0.75 * start + 0.25 * new.
    const w1 = { ...start, '0.weight': [1, -2], '0.bias': [4], '1.running_mean': [8], '1.running_var': [2] };
    setWeights(model, w1);
    ema.update();
    // Step 2: again.
    const w2 = { ...w1, '0.weight': [3, 2], '0.bias': [0], '1.running_mean': [0], '1.running_var': [6] };
    setWeights(model, w2);
    ema.update();
    const expected = (k: string) =>
      start[k]!.map((s, i) => Math.fround(0.75 * Math.fround(0.75 * s + 0.25 * w1[k as keyof typeof w1]![i]!) + 0.25 * w2[k as keyof typeof w2]![i]!));
    const avg = ema.stateDict();
    expect(avg.updates).toBe(2);
    for (const k of ['0.weight', '0.bias', '1.running_mean', '1.running_var']) expect(Array.from(avg.tensors[k]!)).toEqual(expected(k));
    // Hand-worked for one value: bias 0 -> 0.75 * 0 + 0.25 * 4 = 1 -> 0.75 * 1 + 0.25 * 0 = 0.75 (when it starts at 0).
    const fresh = new ck.nn.Linear(1, 1);
    setWeights(fresh, { weight: [0], bias: [0] });
    const e = new ck.train.ModelEma(fresh, { decay: 0.75 });
    setWeights(fresh, { weight: [4], bias: [4] });
    e.update();
    setWeights(fresh, { weight: [0], bias: [0] });
    e.update();
    expect(Array.from(e.stateDict().tensors['bias']!)).toEqual([0.75]);
  });

  it('withAverage runs on the averaged weights and puts the trained ones back; copyTo keeps them', () => {
    const model = new ck.nn.Linear(1, 1);
    setWeights(model, { weight: [2], bias: [0] });
    const ema = new ck.train.ModelEma(model, { decay: 0.5 });
    setWeights(model, { weight: [4], bias: [1] });
    ema.update(); // average: weight 3, bias 0.5
    const x = ck.tensor([1], [1, 1]);
    expect(ema.withAverage(() => model.forward(x).item())).toBe(3.5);
    expect(model.forward(x).item()).toBe(5);
    ema.copyTo();
    expect(values(model)).toEqual({ weight: [3], bias: [0.5] });
  });

  it('restores its state and refuses a different decay or model', () => {
    const model = new ck.nn.Linear(2, 2);
    const ema = new ck.train.ModelEma(model, { decay: 0.9 });
    ema.update();
    const other = new ck.train.ModelEma(model, { decay: 0.9 });
    other.loadStateDict(ema.stateDict());
    expect(other.stateDict()).toEqual(ema.stateDict());
    expectConvkitError(() => new ck.train.ModelEma(model, { decay: 0.99 }).loadStateDict(ema.stateDict()), /decay 0.9, this average uses 0.99/);
    expectConvkitError(() => new ck.train.ModelEma(new ck.nn.Linear(3, 2), { decay: 0.9 }).loadStateDict(ema.stateDict()), /wrong size/);
    expectConvkitError(() => new ck.train.ModelEma(model, { decay: 1 }), /decay must be a number in \[0, 1\)/);
  });
});

/** A tiny problem: 48 images 1x6x6 of 3 classes, batch-norm net, SGD with warm-up + cosine, label smoothing, EMA. */
function setup(epochs: number, checkpointPath: string): { model: ck.nn.Module; opts: TrainerOptions } {
  ck.manualSeed(3);
  const g = new ck.Generator(1);
  const n = 48;
  const x = new Float32Array(n * 36);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let j = 0; j < 36; j++) x[i * 36 + j] = 0.3 * g.normal() + (Math.floor(j / 12) === y[i] ? 1 : 0);
  }
  const data = new ck.data.TensorDataset(ck.tensor(x, [n, 1, 6, 6]), ck.tensor(y, [n], { dtype: 'int32' }));
  const model = new ck.nn.Sequential(new ck.nn.Conv2d(1, 4, 3), new ck.nn.BatchNorm2d(4), new ck.nn.ReLU(), new ck.nn.Flatten(), new ck.nn.Linear(64, 3));
  const shuffle = new ck.Generator(2);
  const optimizer = new ck.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true });
  const scheduler = makeScheduler('cosine', optimizer, { epochs, warmup: 1, stepsPerEpoch: 6 })!;
  return {
    model,
    opts: {
      train: new ck.data.DataLoader(data, { batchSize: 8, shuffle: true, generator: shuffle }),
      validation: new ck.data.DataLoader(data, { batchSize: 16 }),
      optimizer,
      scheduler,
      epochs,
      loss: (o, t) => ck.F.crossEntropy(o, t, { labelSmoothing: 0.1 }),
      ema: new ck.train.ModelEma(model, { decay: 0.9 }),
      generators: [shuffle],
      checkpointPath,
    },
  };
}

describe('Trainer with ema and a warm-up', () => {
  it('validates on the averaged weights and resumes bit-exactly (weights, average, schedule)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convkit-ema-'));
    dirs.push(dir);
    const ref = setup(3, join(dir, 'ref.convkit'));
    const full = await new Trainer(ref.model, ref.opts).fit();
    // The validation loss is the averaged model's: recompute it.
    const avgLoss = ref.opts.ema!.withAverage(() => ck.train.evaluate(ref.model, ref.opts.validation!, ref.opts.loss).loss);
    expect(full.history[2]!.valLoss).toBe(avgLoss);
    expect(ck.train.evaluate(ref.model, ref.opts.validation!, ref.opts.loss).loss).not.toBe(avgLoss);

    // The same run stopped during epoch 3 (as by Ctrl-C): its checkpoint holds epoch 2.
    const cut = setup(3, join(dir, 'cut.convkit'));
    const signal = { aborted: false };
    const stopped = await new Trainer(cut.model, { ...cut.opts, signal, callbacks: { onEpoch: (e) => (signal.aborted = e.epoch === 2) } }).fit();
    expect(stopped.interrupted).toBe(true);
    const resumed = setup(3, join(dir, 'cut.convkit'));
    const r = await new Trainer(resumed.model, { ...resumed.opts, resume: true }).fit();
    expect(r.resumedAfter).toBe(2);
    expect(values(resumed.model)).toEqual(values(ref.model));
    expect(resumed.opts.ema!.stateDict()).toEqual(ref.opts.ema!.stateDict());
    expect(resumed.opts.optimizer.lr).toBe(ref.opts.optimizer.lr);
    expect(r.history.map((e) => e.valLoss)).toEqual(full.history.map((e) => e.valLoss));
  });

  it('refuses to resume without the average a checkpoint was written with', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convkit-ema-'));
    dirs.push(dir);
    const a = setup(2, join(dir, 'a.convkit'));
    await new Trainer(a.model, { ...a.opts, epochs: 1 }).fit();
    const b = setup(2, join(dir, 'a.convkit'));
    const { ema: _ema, ...withoutEma } = b.opts;
    await expect(new Trainer(b.model, { ...withoutEma, resume: true }).fit()).rejects.toThrow(/written with a weight average \(EMA\) and this run is without one/);
  });
});
