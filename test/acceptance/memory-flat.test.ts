import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';

/**
 * Issue #2 acceptance: "10,000 training steps of a small CNN; heap/external memory stays flat".
 *
 * The run goes through the real Trainer (each step in its tidy scope: forward, crossEntropy,
 * backward, optimizer step, zeroGrad). Memory is read twice, after a warm-up (JIT code, the
 * optimizer's momentum buffers and the wasm arena are allocated by then) and at the end, each
 * time after forcing a full garbage collection, from two sources:
 *  - ck.memory(): live tensor storages and their bytes (exact: tidy frees deterministically);
 *  - process.memoryUsage(): heapUsed + external (external already includes arrayBuffers,
 *    so adding arrayBuffers again would count typed-array backing stores twice).
 *
 * The bounds are sized to catch the smallest leak that matters: one 4x8x8 float32 volume
 * (1 KiB) per step is 10 MB over 10,000 steps. The second test leaks exactly that and checks
 * that the same measurement flags it, so a passing first test means something.
 */

const STEPS = 10_000;
const WARMUP = 2000;
/** One 4x8x8 float32 volume per step would add STEPS KiB (10 MB); the tensor bound is 1/5 of it. */
const TENSOR_BYTES_BOUND = 2 * 1024 * 1024;
/** Heap + external after GC: leaves room for V8's own noise (code, feedback vectors) yet is half the minimal leak. */
const PROCESS_BYTES_BOUND = 5 * 1024 * 1024;

/**
 * A callable gc(): node's own when run with --expose-gc, otherwise the flag is switched on at
 * run time and gc fetched from a fresh context (the flag only affects contexts made after it),
 * so no vitest config change is needed for this one file.
 */
function getGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
const gc = getGc();

const nextTask = () => new Promise<void>((r) => setImmediate(r));

/**
 * Full GCs until ck.memory() stops changing: FinalizationRegistry callbacks (the safety net
 * that counts collected storages) run in a task after the collection, not inside gc().
 */
async function settle(): Promise<void> {
  let last = -1;
  for (let i = 0; i < 10; i++) {
    gc();
    await nextTask();
    const n = ck.memory().numTensors;
    if (n === last) return;
    last = n;
  }
}

interface Snapshot {
  numTensors: number;
  numBytes: number;
  processBytes: number;
}

async function snapshot(): Promise<Snapshot> {
  await settle();
  const m = ck.memory();
  const p = process.memoryUsage();
  return { numTensors: m.numTensors, numBytes: m.numBytes, processBytes: p.heapUsed + p.external };
}

const mib = (b: number) => `${(b / 1048576).toFixed(2)} MiB`;

/** CONV3-4 (pad 1) -> RELU -> POOL2 -> FC10 on 8x8x1: small enough that 10,000 steps take seconds. */
function smallCnn(): ck.nn.Sequential {
  return new ck.nn.Sequential(
    new ck.nn.Conv2d(1, 4, 3, { padding: 1 }),
    new ck.nn.ReLU(),
    new ck.nn.MaxPool2d(2),
    new ck.nn.Flatten(),
    new ck.nn.Linear(4 * 4 * 4, 10),
  );
}

type Batch = { x: ck.Tensor; y: ck.Tensor };

/** 8 fixed random batches of 4, made outside every scope. */
function batchPool(): Batch[] {
  return Array.from({ length: 8 }, () => ({
    x: ck.randn([4, 1, 8, 8]),
    y: ck.randint(0, 10, [4]),
  }));
}

/** `steps` batches cycling through `pool`. */
function batches(pool: Batch[], steps: number): ck.train.BatchSource {
  return {
    length: steps,
    *[Symbol.iterator]() {
      for (let i = 0; i < steps; i++) yield pool[i % pool.length]!;
    },
  };
}

interface RunResult {
  before: Snapshot;
  after: Snapshot;
}

/** Trains with the real Trainer: a warm-up epoch, a snapshot, STEPS steps, a snapshot. */
async function trainAndMeasure(loss?: ck.train.LossFn): Promise<RunResult> {
  ck.manualSeed(1);
  const model = smallCnn();
  const optimizer = new ck.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  // One pool for both runs, reachable until the last snapshot: a pool per run would become
  // garbage whose finalizers (16 storages) may run before or after either snapshot.
  const pool = batchPool();
  const run = (steps: number) => new ck.train.Trainer(model, { train: batches(pool, steps), optimizer, epochs: 1, ...(loss ? { loss } : {}) }).fit();
  const warm = await run(WARMUP);
  expect(Number.isFinite(warm.history[0]!.trainLoss)).toBe(true);
  const before = await snapshot();
  const result = await run(STEPS);
  expect(result.epochsRun).toBe(1);
  const after = await snapshot();
  expect(pool.every((b) => !b.x.isDisposed)).toBe(true);
  return { before, after };
}

function report(label: string, { before, after }: RunResult): void {
  console.log(
    `${label} [${ck.getBackendName()}]: tensors ${before.numTensors} -> ${after.numTensors}, ` +
      `tensor bytes ${before.numBytes} -> ${after.numBytes}, ` +
      `heap+external ${mib(before.processBytes)} -> ${mib(after.processBytes)} (${mib(after.processBytes - before.processBytes)} growth)`,
  );
}

describe('memory stays flat over a long training run', () => {
  it(`${STEPS} Trainer steps of a small CNN leave tensor count, tensor bytes and heap+external flat`, async () => {
    const r = await trainAndMeasure();
    report('flat run', r);
    // tidy frees every step's storages: no growth at all. (The count may drop by a leftover of
    // the warm-up whose finalizer ran late; it never rises.)
    expect(r.after.numTensors).toBeLessThanOrEqual(r.before.numTensors);
    expect(r.after.numBytes - r.before.numBytes).toBeLessThan(TENSOR_BYTES_BOUND);
    expect(r.after.processBytes - r.before.processBytes).toBeLessThan(PROCESS_BYTES_BOUND);
  });

  it('the same measurement flags a deliberate leak of one 4x8x8 volume per step', async () => {
    // A loss function that keeps one activation-sized tensor per step past the Trainer's
    // scope, as a user's code holding on to activations would.
    const leaked: ck.Tensor[] = [];
    const leaky: ck.train.LossFn = (out, y) => {
      leaked.push(ck.keep(ck.zeros([4, 8, 8])));
      return ck.F.crossEntropy(out, y);
    };
    const r = await trainAndMeasure(leaky);
    report('leaky run', r);
    expect(leaked.length).toBe(WARMUP + STEPS);
    // Every leaked volume shows; the +-1 tensor (1 KiB) is a warm-up leftover whose finalizer may run late.
    expect(r.after.numTensors - r.before.numTensors).toBeGreaterThanOrEqual(STEPS - 1);
    expect(r.after.numBytes - r.before.numBytes).toBeGreaterThanOrEqual(STEPS * 4 * 8 * 8 * 4 - 1024);
    // Every bound of the first test is crossed, so each check there can fail.
    expect(r.after.numBytes - r.before.numBytes).toBeGreaterThan(TENSOR_BYTES_BOUND);
    expect(r.after.processBytes - r.before.processBytes).toBeGreaterThan(PROCESS_BYTES_BOUND);
  });

  it('noGrad inference without tidy stays flat once the garbage collector runs', async () => {
    // Inference outside any scope frees nothing deterministically: storages pile up between
    // collections and ck.memory() counts them until their FinalizationRegistry callbacks run.
    // This is the "safety net, not the plan" of DESIGN.md; it must still hold over long runs.
    ck.manualSeed(2);
    const model = smallCnn();
    model.eval();
    const x = ck.randn([4, 1, 8, 8]);
    const infer = (n: number) => {
      let checksum = 0;
      ck.noGrad(() => {
        for (let i = 0; i < n; i++) checksum += model.forward(x).dataSync()[0]!;
      });
      return checksum;
    };
    infer(WARMUP);
    const before = await snapshot();
    const checksum = infer(STEPS);
    const after = await snapshot();
    console.log(
      `noGrad inference: tensors ${before.numTensors} -> ${after.numTensors}, heap+external ${mib(before.processBytes)} -> ${mib(after.processBytes)}`,
    );
    expect(Number.isFinite(checksum)).toBe(true);
    // Nothing from the loop is reachable any more, so the collector gives every storage back.
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect(after.processBytes - before.processBytes).toBeLessThan(PROCESS_BYTES_BOUND);
  });
});
