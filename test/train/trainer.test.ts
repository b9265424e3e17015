import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { Trainer, TrainingDivergedError, evaluate, type FitResult, type LossFn, type TrainerOptions } from '../../src/train/trainer.js';
import { deserializeCheckpoint } from '../../src/train/checkpoint.js';
import type { EpochEvent } from '../../src/train/progress.js';

/**
 * The Trainer on a tiny synthetic problem (64 images of 1x6x6, 3 classes), with everything a
 * resumed run depends on switched on: a shuffling loader with its own generator, dropout (the
 * global generator), momentum (optimizer state), a step schedule and early-stopping counters.
 */

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'convkit-trainer-'));
  dirs.push(d);
  return d;
}

function dataset(n: number, seed: number): ck.data.TensorDataset {
  const g = new ck.Generator(seed);
  const x = new Float32Array(n * 36);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    // Class k is brighter in band k of the image, plus noise: learnable, not trivial.
    for (let j = 0; j < 36; j++) x[i * 36 + j] = 0.3 * g.normal() + (Math.floor(j / 12) === y[i] ? 1 : 0);
  }
  return new ck.data.TensorDataset(ck.tensor(x, [n, 1, 6, 6]), ck.tensor(y, [n], { dtype: 'int32' }));
}

interface Setup {
  model: ck.nn.Module;
  opts: TrainerOptions;
}

function setup(epochs: number, checkpointPath: string | undefined, extra: Partial<TrainerOptions> = {}, seed = 5): Setup {
  ck.manualSeed(seed);
  const model = new ck.nn.Sequential(
    new ck.nn.Conv2d(1, 4, 3),
    new ck.nn.ReLU(),
    new ck.nn.Flatten(),
    new ck.nn.Dropout(0.25),
    new ck.nn.Linear(64, 3),
  );
  const shuffle = new ck.Generator(seed + 1);
  const optimizer = new ck.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
  const scheduler = new ck.optim.StepLR(optimizer, { stepSize: 1, gamma: 0.7 });
  return {
    model,
    opts: {
      train: new ck.data.DataLoader(dataset(64, 1), { batchSize: 8, shuffle: true, generator: shuffle }),
      validation: new ck.data.DataLoader(dataset(24, 2), { batchSize: 12 }),
      optimizer,
      scheduler,
      epochs,
      earlyStopping: { metric: 'valLoss', patience: 10 },
      generators: [shuffle],
      ...(checkpointPath ? { checkpointPath } : {}),
      ...extra,
    },
  };
}

const weights = (m: ck.nn.Module) => [...m.stateDict()].map(([k, t]) => [k, Array.from(t.dataSync())] as const);
/** The history without wall-clock fields and the planned total, which legitimately differ between the runs. */
const stable = (h: EpochEvent[]) => h.map(({ seconds: _s, imagesPerSecond: _i, epochs: _e, ...rest }) => rest);

describe('Trainer', () => {
  it('is deterministic: the same seed gives bit-identical weights', async () => {
    const a = setup(2, undefined);
    await new Trainer(a.model, a.opts).fit();
    const b = setup(2, undefined);
    await new Trainer(b.model, b.opts).fit();
    expect(weights(b.model)).toEqual(weights(a.model));
    const c = setup(2, undefined, {}, 6);
    await new Trainer(c.model, c.opts).fit();
    expect(weights(c.model)).not.toEqual(weights(a.model));
  });

  it('3 epochs uninterrupted == 2 epochs + resume for 1, bit for bit (model, optimizer, schedule, generators, history)', async () => {
    const full = setup(3, undefined);
    const fullResult = await new Trainer(full.model, full.opts).fit();
    const fullGenerator = ck.globalGenerator.getState();

    const file = join(tmp(), 'checkpoint.convkit');
    const first = setup(2, file);
    await new Trainer(first.model, first.opts).fit();
    expect(deserializeCheckpoint(readFileSync(file), file).epoch).toBe(2);

    // A fresh process would build everything again from the seed; so does this.
    const messages: string[] = [];
    const second = setup(3, file, { resume: true, callbacks: { onMessage: (t) => messages.push(t) } });
    const result: FitResult = await new Trainer(second.model, second.opts).fit();
    expect(messages.join('\n')).toMatch(/resuming from .* after epoch 2/);
    expect(result.epochsRun).toBe(1);
    expect(result.resumedAfter).toBe(2);
    expect(weights(second.model)).toEqual(weights(full.model));
    expect(stable(result.history)).toEqual(stable(fullResult.history));
    expect(second.opts.optimizer.lr).toBe(full.opts.optimizer.lr);
    // Dropout's generator ends where the uninterrupted run's did, so what follows matches too.
    expect(ck.globalGenerator.getState()).toEqual(fullGenerator);
  });

  it('early stopping counts across a resume', async () => {
    // lr 0: the validation loss never improves after epoch 1, so patience 2 stops after epoch 3.
    const opts = (epochs: number, file: string, resume = false) => {
      const s = setup(epochs, file, { earlyStopping: { metric: 'valLoss', patience: 2 }, resume });
      s.opts.optimizer.lr = 0;
      (s.opts as { scheduler?: unknown }).scheduler = undefined;
      return s;
    };
    const straight = opts(6, join(tmp(), 'c.convkit'));
    const r = await new Trainer(straight.model, straight.opts).fit();
    expect(r).toMatchObject({ epochsRun: 3, stoppedEarly: true });

    const file = join(tmp(), 'c.convkit');
    const a = opts(2, file);
    expect(await new Trainer(a.model, a.opts).fit()).toMatchObject({ epochsRun: 2, stoppedEarly: false });
    const b = opts(6, file, true);
    expect(await new Trainer(b.model, b.opts).fit()).toMatchObject({ epochsRun: 1, stoppedEarly: true });
    // Resuming a run that already stopped early does not train on.
    const c = opts(6, file, true);
    expect(await new Trainer(c.model, c.opts).fit()).toMatchObject({ epochsRun: 0, stoppedEarly: true });
  });

  it('stops on a NaN loss with a message naming the epoch, the step and the likely causes, keeping the last checkpoint', async () => {
    const file = join(tmp(), 'checkpoint.convkit');
    let calls = 0;
    // The 11th training step (epoch 2, step 3 with 8 steps per epoch) returns NaN.
    const loss: LossFn = (out, y) => {
      const l = ck.F.crossEntropy(out, y);
      return ck.isGradEnabled() && ++calls === 11 ? ck.F.mul(l, ck.tensor(NaN)) : l;
    };
    const s = setup(3, file, { loss });
    let atEpoch2: Uint8Array | null = null;
    s.opts.callbacks = {
      onStep: (e) => {
        if (e.epoch === 2 && !atEpoch2) atEpoch2 = readFileSync(file);
      },
    };
    const err = await new Trainer(s.model, s.opts).fit().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TrainingDivergedError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/the loss became NaN at epoch 2, step 3 of 8/);
    expect(msg).toMatch(/learning rate too high \(now 0\.035;/);
    expect(msg).toMatch(/inputs not scaled/);
    expect(msg).toContain(`${file} (after epoch 1), is kept unchanged`);
    expect(atEpoch2).not.toBeNull();
    expect(readFileSync(file).equals(atEpoch2!)).toBe(true);
    const state = deserializeCheckpoint(readFileSync(file), file);
    expect(state.epoch).toBe(1);
    expect([...state.model.values()].every((t) => t.dataSync().every(Number.isFinite))).toBe(true);
  });

  it('a run diverging in its first epoch says that no checkpoint exists yet', async () => {
    const file = join(tmp(), 'checkpoint.convkit');
    const s = setup(2, file, { loss: (out, y) => ck.F.mul(ck.F.crossEntropy(out, y), ck.tensor(Infinity)) });
    await expect(new Trainer(s.model, s.opts).fit()).rejects.toThrow(/loss became Infinity at epoch 1, step 1 of 8; training stopped and no checkpoint was written/);
    expect(existsSync(file)).toBe(false);
  });

  it('refuses a checkpoint written with other settings, or a corrupt one, and leaves the model untouched', async () => {
    const file = join(tmp(), 'checkpoint.convkit');
    const a = setup(1, file, { settings: { seed: 5, batchSize: 8 } });
    await new Trainer(a.model, a.opts).fit();

    const b = setup(2, file, { settings: { seed: 6, batchSize: 8 }, resume: true });
    const untouched = weights(b.model);
    await expect(new Trainer(b.model, b.opts).fit()).rejects.toThrow(/cannot resume: the checkpoint was written with different settings \(seed 5 there, 6 now\)/);
    expect(weights(b.model)).toEqual(untouched);

    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    const c = setup(2, file, { resume: true });
    const before = weights(c.model);
    await expect(new Trainer(c.model, c.opts).fit()).rejects.toThrow(/checkpoint\.convkit: is corrupt or truncated/);
    expect(weights(c.model)).toEqual(before);

    // A checkpoint of another model: the weights do not fit, and nothing is loaded.
    writeFileSync(file, bytes);
    // The same model with another optimizer: the weights would load, the optimizer state does
    // not, and the weights are put back: never a half-restored run.
    const e = setup(2, file, { resume: true });
    const adam = new ck.optim.Adam(e.model.parameters(), { lr: 0.01 });
    const eBefore = weights(e.model);
    await expect(new Trainer(e.model, { ...e.opts, optimizer: adam, scheduler: undefined as never }).fit()).rejects.toThrow(/cannot resume/);
    await expect(new Trainer(e.model, { ...e.opts, optimizer: adam, scheduler: new ck.optim.StepLR(adam, { stepSize: 1 }) }).fit()).rejects.toThrow(
      /cannot resume: Adam.loadStateDict: the state is from a SGD optimizer/,
    );
    expect(weights(e.model)).toEqual(eBefore);

    ck.manualSeed(1);
    const other = new ck.nn.Sequential(new ck.nn.Conv2d(1, 4, 3), new ck.nn.ReLU(), new ck.nn.Flatten(), new ck.nn.Linear(64, 3));
    const d = setup(2, file, { resume: true });
    const otherOpt = new ck.optim.Adam(other.parameters(), { lr: 0.01 });
    const otherBefore = weights(other);
    const t = new Trainer(other, { ...d.opts, optimizer: otherOpt, scheduler: undefined as never });
    await expect(t.fit()).rejects.toThrow(/cannot resume/);
    expect(weights(other)).toEqual(otherBefore);
  });

  it('reports top-1 and top-5 accuracy per epoch and evaluates without recording gradients', async () => {
    const s = setup(1, undefined);
    const r = await new Trainer(s.model, s.opts).fit();
    const e = r.history[0]!;
    expect(e.trainAccuracy).toBeGreaterThanOrEqual(0);
    expect(e.trainTop5).toBe(1); // 3 classes: every label is in the top 5
    expect(e.valAccuracy).toBeGreaterThan(0.5);
    const v = evaluate(s.model, s.opts.validation!);
    expect(v.count).toBe(24);
    expect(v.accuracy).toBe(e.valAccuracy);
    expect(s.model.training).toBe(true);
  });
});
