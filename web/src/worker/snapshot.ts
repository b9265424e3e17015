import * as ck from 'convkit';
import type { ConvFilters, LayerActivation, ParamHistogram, Snapshot } from '../shared/protocol.js';
import { histogram } from './histogram.js';
import { Reads } from './reads.js';
import type { Session } from './session.js';

/**
 * What the page's views show at one moment, computed with the model in eval mode on one
 * chosen test example: every layer's activations (copied as each layer finishes, before an
 * in-place ReLU overwrites them), the class probabilities, the saliency map (gradient of the
 * predicted class's score with respect to the input pixels), the CONV filters with the last
 * step's gradients, and a histogram of every parameter and gradient. On webgpu every value is
 * copied on the GPU as it is computed and read back at the end, in one wait (reads.ts).
 */

export async function takeSnapshot(s: Session, exampleIndex: number, labels: readonly string[]): Promise<Snapshot> {
  const { model, data, net } = s;
  const index = Math.max(0, Math.min(data.test.length - 1, exampleIndex));
  const sample = data.test.get(index);
  const reads = new Reads();
  const activations: LayerActivation[] = [];
  const children = model.namedChildren();
  const handles = children.map(([, child], i) =>
    child.registerForwardHook((_m, _inputs, output) => {
      const t = output as ck.Tensor;
      const a: LayerActivation = { index: i, label: labels[i] ?? child.typeName, shape: t.shape.slice(1), data: empty() };
      activations.push(a);
      reads.copy(t, (v) => (a.data = v));
    }),
  );
  const wasTraining = model.training;
  // Frozen for the saliency pass, so that its backward leaves the parameters' gradients alone.
  const trainable = s.params.map((p) => p.requiresGrad);
  model.eval();
  for (const p of s.params) p.requiresGrad = false;
  let probabilities: Float32Array = empty();
  let saliency: Float32Array = empty();
  let saliencyClass = 0;
  try {
    ck.tidy(() => {
      const x = ck.tensor(sample.input, [1, ...net.input], { requiresGrad: true });
      const out = model.forward(x);
      reads.copy(ck.F.softmax(out, 1), (v) => (probabilities = v));
      // The predicted class's score, differentiated without reading the scores first (they may
      // be on the GPU): the top-1 of the scores is that score, and its gradient goes to that class.
      const top = ck.topk(out, 1, 1);
      reads.peek(top.indices, (v) => (saliencyClass = v[0]!));
      top.values.backward(ck.ones(top.values.shape));
      reads.peek(x.grad!, (g) => (saliency = channelMaxAbs(g, net.input)));
    });
  } finally {
    handles.forEach((h) => h.remove());
    s.params.forEach((p, i) => (p.requiresGrad = trainable[i]!));
    model.train(wasTraining);
  }
  const filters = convFilters(children.map(([, c]) => c), labels, reads);
  const histograms = paramHistograms(model, reads);
  await reads.flush();
  return {
    step: s.step,
    example: { index, label: sample.label, pixels: sample.input },
    activations,
    filters,
    histograms,
    saliency,
    saliencyClass,
    probabilities,
  };
}

/** A placeholder until the values are read (a fresh one each time: snapshot buffers are transferred). */
const empty = (): Float32Array => new Float32Array(0);

/** |gradient| per pixel, the largest over the channels ([C, H, W] -> [H * W]). */
function channelMaxAbs(g: Float32Array, [c, h, w]: readonly number[]): Float32Array {
  const plane = h! * w!;
  const out = new Float32Array(plane);
  for (let ch = 0; ch < c!; ch++) {
    for (let i = 0; i < plane; i++) out[i] = Math.max(out[i]!, Math.abs(g[ch * plane + i]!));
  }
  return out;
}

/** The CONV layers' weights and last gradients (filled in when `reads` is flushed). */
function convFilters(layers: ck.nn.Module[], labels: readonly string[], reads: Reads): ConvFilters[] {
  const out: ConvFilters[] = [];
  layers.forEach((m, index) => {
    if (!(m instanceof ck.nn.Conv2d)) return;
    const w = m.weight;
    const f: ConvFilters = { index, label: labels[index] ?? 'CONV', shape: w.shape as unknown as [number, number, number, number], weight: empty(), grad: null };
    reads.copy(w, (v) => (f.weight = v));
    if (w.grad) reads.copy(w.grad, (v) => (f.grad = v));
    out.push(f);
  });
  return out;
}

/** A histogram of every parameter and gradient (filled in when `reads` is flushed). */
function paramHistograms(model: ck.nn.Module, reads: Reads): ParamHistogram[] {
  return model.namedParameters().map(([name, p]) => {
    const h: ParamHistogram = { name, weights: histogram(empty()), grads: null };
    reads.peek(p, (v) => (h.weights = histogram(v)));
    if (p.grad) reads.peek(p.grad, (v) => (h.grads = histogram(v)));
    return h;
  });
}

/** The buffers a snapshot can hand over without copying. */
export function snapshotTransfers(snap: Snapshot): ArrayBuffer[] {
  const bufs: ArrayBufferLike[] = [snap.example.pixels.buffer, snap.saliency.buffer, snap.probabilities.buffer];
  for (const a of snap.activations) bufs.push(a.data.buffer);
  for (const f of snap.filters) {
    bufs.push(f.weight.buffer);
    if (f.grad) bufs.push(f.grad.buffer);
  }
  // Distinct, and never a shared (wasm) memory: those cannot be transferred.
  return [...new Set(bufs)].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
}
