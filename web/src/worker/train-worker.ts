import * as ck from 'convkit';
// The GPU backend is its own entry: the playground offers it where the browser has an adapter.
import 'convkit/webgpu';
import type { BackendInfo, FromWorker, NetSpec, ToWorker, UploadedIdx, WebgpuProbe } from '../shared/protocol.js';
import type { BackendName, DatasetName, Hyper, RunConfig } from '../shared/run-config.js';
import { netFromModel } from '../net/net-spec.js';
import { loadSplits, type Splits } from './datasets.js';
import { evaluateTest } from './evaluation.js';
import { Session } from './session.js';
import { Reads } from './reads.js';
import { snapshotTransfers, takeSnapshot } from './snapshot.js';

/**
 * The training worker: the page never runs a training step itself, so it never freezes. Steps
 * run in slices of ~40 ms; between slices the worker reads its messages (pause, new
 * hyperparameters, ...) and, throttled, sends the page what its views need: stats ~10 times a
 * second, a snapshot of one example ~3 times a second, a validation pass every few seconds.
 * The wasm backend runs the kernels, on a pool of threads when the page is cross-origin
 * isolated (shared memory); otherwise on this worker's thread alone. The webgpu backend runs
 * them on the GPU where the browser gives an adapter: a step then only queues GPU work, and the
 * results are read back every few steps and for the views (Session.settle, reads.ts).
 */

interface WorkerScope {
  postMessage(message: FromWorker, transfer: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  crossOriginIsolated?: boolean;
}
const scope = self as unknown as WorkerScope;

const SLICE_MS = 40;
const STATS_MS = 100;
const SNAPSHOT_MS = 300;
const EVAL_MS = 4000;
/** Validation examples per pass (the whole test split when smaller). */
const EVAL_LIMIT = 1000;
/** On webgpu, steps queued before their losses are read back (one wait on the GPU for all). */
const QUEUED_STEPS = 16;

let session: Session | null = null;
let run: RunConfig | null = null;
let running = false;
let selected = 0;
let last = { stats: 0, snapshot: 0, eval: 0 };
/** How long the last snapshot and validation pass took (ms). */
let took = { snapshot: 0, eval: 0 };
/** [time, images trained] samples for the wall-clock rate. */
let wall: [number, number][] = [];
let imagesTrained = 0;
const splitsCache = new Map<string, Splits>();
const wasmReady = startWasm();
const webgpuProbe = probeWebgpu();
/** The training loop now running (resolved when none is): what must end before a step, setup or view pass. */
let loopDone: Promise<void> = Promise.resolve();

function post(message: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

/** Starts the wasm backend (the default); 'js' when WebAssembly SIMD is missing. */
async function startWasm(): Promise<'wasm' | 'js'> {
  try {
    await ck.setBackend('wasm');
    return 'wasm';
  } catch {
    // No WebAssembly SIMD: the reference backend still trains, slowly.
    await ck.setBackend('js');
    return 'js';
  }
}

/** What the probe uses of navigator.gpu (the page needs no WebGPU type declarations). */
interface GpuEntry {
  requestAdapter(options?: { powerPreference?: string; featureLevel?: string }): Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null>;
}

/** Asks the browser for a WebGPU adapter (the one convkit's backend will ask for) and tells the page. */
async function probeWebgpu(): Promise<WebgpuProbe> {
  let probe: WebgpuProbe;
  const gpu = (navigator as Navigator & { gpu?: GpuEntry }).gpu;
  if (!gpu) {
    probe = { adapter: null, problem: 'this browser has no WebGPU (navigator.gpu) in workers' };
  } else {
    try {
      const adapter =
        (await gpu.requestAdapter({ powerPreference: 'high-performance' })) ?? (await gpu.requestAdapter({ featureLevel: 'compatibility' }));
      const info = adapter?.info;
      const name = [info?.vendor, info?.architecture, info?.description].filter((x) => x).join(' ');
      probe = adapter ? { adapter: name || 'unnamed adapter', problem: null } : { adapter: null, problem: 'WebGPU is present but gives no adapter (no GPU or driver it can use)' };
    } catch (e) {
      probe = { adapter: null, problem: `WebGPU failed to give an adapter: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
  post({ type: 'backends', webgpu: probe });
  return probe;
}

/** Selects the run's backend (wasm when webgpu cannot start) and describes it for the page. */
async function useBackend(requested: BackendName): Promise<BackendInfo> {
  const isolated = scope.crossOriginIsolated === true;
  let fallback: string | undefined;
  if (requested === 'webgpu') {
    const probe = await webgpuProbe;
    if (probe.adapter !== null) {
      try {
        await ck.setBackend('webgpu');
        return { name: 'webgpu', threads: 1, isolated, requested, adapter: probe.adapter };
      } catch (e) {
        fallback = e instanceof Error ? e.message : String(e);
      }
    } else {
      fallback = probe.problem ?? 'no WebGPU adapter';
    }
  }
  const name = await wasmReady;
  await ck.setBackend(name);
  const cores = navigator.hardwareConcurrency || 1;
  return { name, threads: name === 'wasm' && isolated ? Math.min(cores, 8) : 1, isolated, requested, ...(fallback !== undefined ? { fallback } : {}) };
}

/** A macrotask boundary, so queued messages are handled (faster than setTimeout's clamp). */
function yieldToMessages(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve();
    ch.port2.postMessage(null);
  });
}

async function splitsFor(name: DatasetName, seed: number, dataBase: string, upload?: UploadedIdx): Promise<Splits> {
  // Generated shapes depend on the seed; an upload replaces what was cached.
  const key = name === 'shapes' ? `shapes:${seed}` : name;
  if (upload) splitsCache.delete(key);
  let splits = splitsCache.get(key);
  if (!splits) {
    splits = await loadSplits(name, seed, dataBase, upload);
    splitsCache.set(key, splits);
  }
  return splits;
}

function classNames(): string[] {
  return session ? [...session.data.train.classes] : [];
}

function sendStats(flush = false): void {
  if (!session) return;
  const now = performance.now();
  wall.push([now, imagesTrained]);
  while (wall.length > 2 && now - wall[0]![0] > 2000) wall.shift();
  const [t0, n0] = wall[0]!;
  post({
    type: 'stats',
    stats: {
      step: session.step,
      epoch: session.epoch,
      epochProgress: session.seenInEpoch / session.epochSize,
      running,
      imagesPerSecond: session.imagesPerSecond(),
      wallImagesPerSecond: running && now - t0 > 200 ? ((imagesTrained - n0) / (now - t0)) * 1000 : 0,
      forwardMs: session.forwardMs,
      backwardMs: session.backwardMs,
      points: session.takePoints(flush),
    },
  });
  last.stats = now;
}

async function sendSnapshot(): Promise<void> {
  if (!session) return;
  const t0 = performance.now();
  const snap = await takeSnapshot(session, selected, session.net.labels);
  post({ type: 'snapshot', snapshot: snap }, snapshotTransfers(snap));
  last.snapshot = performance.now();
  took.snapshot = last.snapshot - t0;
}

async function sendEval(): Promise<void> {
  if (!session) return;
  const t0 = performance.now();
  const result = await evaluateTest(session.model, session.data.test, session.step, EVAL_LIMIT);
  const transfer = [result.confusion.buffer, result.predicted.buffer, result.labels.buffer] as ArrayBuffer[];
  for (const w of result.worst) transfer.push(w.pixels.buffer as ArrayBuffer);
  post({ type: 'eval', result }, transfer);
  last.eval = performance.now();
  took.eval = last.eval - t0;
}

/** Everything the views show, now (after setup, a single step, a pause, a load). */
async function sendAll(): Promise<void> {
  await session?.settle();
  sendStats(true);
  await sendSnapshot();
  await sendEval();
}

/** Reports an error: a request's (id) to its caller; the training loop's stops training. */
function fail(e: unknown, id: number | null = null): void {
  if (id === null) running = false;
  const message = e instanceof Error ? e.message : String(e);
  post({ type: 'failed', id, message });
  if (!(e instanceof ck.ConvkitError)) console.error(e);
}

/** Bumped by every start, so that a loop left over from before a setup never runs on. */
let loopId = 0;

async function trainLoop(): Promise<void> {
  const id = ++loopId;
  wall = [];
  const current = () => running && session !== null && id === loopId;
  while (current()) {
    const s = session!;
    const start = performance.now();
    try {
      do {
        s.trainStep();
        imagesTrained += s.lastBatch;
        // (Only on webgpu are steps queued: on wasm this never waits.)
        if (s.queued >= QUEUED_STEPS) await s.settle();
      } while (current() && performance.now() - start < SLICE_MS);
      await s.settle();
      if (id !== loopId) break;
      const now = performance.now();
      if (now - last.snapshot > every(SNAPSHOT_MS, took.snapshot, 10_000)) await sendSnapshot();
      if (now - last.eval > every(EVAL_MS, took.eval, 60_000)) await sendEval();
      if (performance.now() - last.stats > STATS_MS) sendStats();
    } catch (e) {
      fail(e);
    }
    await yieldToMessages();
  }
  if (id === loopId) sendStats(true);
}

/**
 * The pause between two view passes: `base`, or longer when a pass is slow (a big network, a
 * software GPU adapter), so that the views take at most a fifth of the time, up to `most`.
 */
function every(base: number, lastMs: number, most: number): number {
  return Math.max(base, Math.min(4 * lastMs, most));
}

/** Stops the training loop and waits until it has. */
async function stopLoop(): Promise<void> {
  running = false;
  await loopDone;
}

async function setup(msg: Extract<ToWorker, { type: 'setup' }>, model?: ck.nn.Module): Promise<void> {
  await stopLoop();
  loopId++;
  session = null;
  const backend = await useBackend(msg.run.backend);
  const data = await splitsFor(msg.run.dataset, msg.run.seed, msg.dataBase, msg.upload);
  const [c, h, w] = msg.net.input;
  const shape = data.train.sampleShape;
  if (shape[0] !== c || shape[1] !== h || shape[2] !== w) {
    throw new ck.ConvkitError(
      `the network takes INPUT[${w}x${h}x${c}] but ${data.train.name} holds ${shape[2]}x${shape[1]}x${shape[0]} images; change INPUT[...] in the network`,
    );
  }
  run = msg.run;
  session = new Session(msg.net, data, msg.run.hyper, msg.run.seed, model);
  imagesTrained = 0;
  selected = Math.min(selected, data.test.length - 1);
  const params = session.params.reduce((s, p) => s + p.size, 0);
  post({
    type: 'ready',
    dataset: { name: data.train.name.split('/')[0]!, classes: classNames(), shape: [c, h, w], train: data.train.length, test: data.test.length },
    backend,
    params,
  });
  await sendAll();
}

function setHyper(h: Hyper): void {
  if (!session || !run) return;
  run = { ...run, hyper: h };
  session.setHyper(h);
}

async function predict(id: number, pixels: Float32Array): Promise<void> {
  if (!session) throw new ck.ConvkitError('no model yet');
  const model = session.model;
  const input = session.net.input;
  const reads = new Reads();
  let probabilities: Float32Array = new Float32Array(0);
  const wasTraining = model.training;
  model.eval();
  try {
    ck.noGrad(() => ck.tidy(() => reads.copy(ck.F.softmax(model.forward(ck.tensor(pixels, [1, ...input])), 1), (v) => (probabilities = v))));
  } finally {
    model.train(wasTraining);
  }
  await reads.flush();
  post({ type: 'predicted', id, probabilities }, [probabilities.buffer as ArrayBuffer]);
}

function images(id: number, indices: number[]): void {
  if (!session) return;
  const test = session.data.test;
  const pixels = indices.map((i) => test.get(i).input);
  post({ type: 'images', id, pixels, labels: indices.map((i) => test.labels[i]!) }, pixels.map((p) => p.buffer as ArrayBuffer));
}

async function save(id: number): Promise<void> {
  if (!session || !run) throw new ck.ConvkitError('no model to save yet');
  // On webgpu the weights are on the GPU: bring them back first (nothing to do on wasm).
  await session.model.sync();
  const bytes = ck.io.serializeModel(session.model, {
    inputShape: [...session.net.input],
    classNames: classNames(),
    pattern: session.net.pattern,
    dataset: run.dataset,
    steps: session.step,
    trainedWith: 'convkit playground',
  });
  post({ type: 'file', id, bytes, name: `convkit-${run.dataset}-step${session.step}.convkit` }, [bytes.buffer as ArrayBuffer]);
}

/** The model as ONNX (convkit's exporter), for onnxruntime, Netron and friends. */
async function exportOnnx(id: number): Promise<void> {
  if (!session || !run) throw new ck.ConvkitError('no model to export yet');
  await session.model.sync();
  const bytes = ck.io.exportOnnx(session.model, { inputShape: [...session.net.input] });
  post({ type: 'file', id, bytes, name: `convkit-${run.dataset}-step${session.step}.onnx` }, [bytes.buffer as ArrayBuffer]);
}

async function load(id: number, bytes: Uint8Array, name: string, dataBase: string): Promise<void> {
  if (!run) throw new ck.ConvkitError('the page has not set up a run yet');
  const { model, metadata } = ck.io.deserializeModel(bytes, name);
  const input = (metadata.inputShape ?? session?.net.input) as [number, number, number] | undefined;
  if (!input || input.length !== 3) throw new ck.ConvkitError(`${name}: the file does not say its input shape [C, H, W]`);
  const pattern = typeof metadata['pattern'] === 'string' ? metadata['pattern'] : undefined;
  const net: NetSpec = netFromModel(model, input, pattern);
  await setup({ type: 'setup', run, net, dataBase }, model);
  post({ type: 'loaded', id, net });
}

let dataBase = '';

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'setup':
      dataBase = msg.dataBase;
      await setup(msg);
      return;
    case 'run':
      if (!session || running) return;
      await loopDone;
      running = true;
      loopDone = trainLoop();
      return;
    case 'pause':
      // (running was cleared on arrival) The loop ends after its slice; the views catch up.
      await stopLoop();
      await sendAll();
      return;
    case 'step':
      if (!session || running) return;
      await loopDone;
      session.trainStep();
      imagesTrained += session.lastBatch;
      await sendAll();
      return;
    case 'hyper':
      setHyper(msg.hyper);
      return;
    case 'select':
      selected = msg.index;
      if (!running) {
        await loopDone;
        await sendSnapshot();
      }
      return;
    case 'predict':
      await predict(msg.id, msg.pixels);
      return;
    case 'images':
      images(msg.id, msg.indices);
      return;
    case 'save':
      await save(msg.id);
      return;
    case 'export-onnx':
      await exportOnnx(msg.id);
      return;
    case 'load':
      await load(msg.id, msg.bytes, msg.name, dataBase);
      return;
  }
}

// Messages are handled one after another, so a setup is never interleaved with a step.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (e) => {
  const msg = e.data;
  // Pause must take effect between two slices, not after a queued setup or load.
  if (msg.type === 'pause') running = false;
  queue = queue.then(() => handle(msg)).catch((err: unknown) => fail(err, 'id' in msg ? msg.id : null));
};
