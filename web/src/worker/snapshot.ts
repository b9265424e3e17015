import * as ck from 'convkit';
import type { ConvFilters, LayerActivation, ParamHistogram, Snapshot } from '../shared/protocol.js';
import { histogram } from './histogram.js';
import type { Session } from './session.js';

/**
 * What the page's views show at one moment, computed with the model in eval mode on one
 * chosen test example: every layer's activations (copied as each layer finishes, before an
 * in-place ReLU overwrites them), the class probabilities, the saliency map (gradient of the
 * predicted class's score with respect to the input pixels), the CONV filters with the last
 * step's gradients, and a histogram of every parameter and gradient.
 */

export function takeSnapshot(s: Session, exampleIndex: number, labels: readonly string[]): Snapshot {
  const { model, data, net } = s;
  const index = Math.max(0, Math.min(data.test.length - 1, exampleIndex));
  const sample = data.test.get(index);
  const activations: LayerActivation[] = [];
  const children = model.namedChildren();
  const handles = children.map(([, child], i) =>
    child.registerForwardHook((_m, _inputs, output) => {
      const t = output as ck.Tensor;
      activations.push({ index: i, label: labels[i] ?? child.typeName, shape: t.shape.slice(1), data: t.dataSync() });
    }),
  );
  const wasTraining = model.training;
  // Frozen for the saliency pass, so that its backward leaves the parameters' gradients alone.
  const trainable = s.params.map((p) => p.requiresGrad);
  model.eval();
  for (const p of s.params) p.requiresGrad = false;
  let probabilities: Float32Array = new Float32Array(0);
  let saliency: Float32Array = new Float32Array(0);
  let saliencyClass = 0;
  try {
    ck.tidy(() => {
      const x = ck.tensor(sample.input, [1, ...net.input], { requiresGrad: true });
      const out = model.forward(x);
      probabilities = ck.F.softmax(out, 1).dataSync();
      saliencyClass = argmax(probabilities);
      const onehot = new Float32Array(probabilities.length);
      onehot[saliencyClass] = 1;
      out.backward(ck.tensor(onehot, out.shape));
      saliency = channelMaxAbs(x.grad!.dataSync(), net.input);
    });
  } finally {
    handles.forEach((h) => h.remove());
    s.params.forEach((p, i) => (p.requiresGrad = trainable[i]!));
    model.train(wasTraining);
  }
  return {
    step: s.step,
    example: { index, label: sample.label, pixels: sample.input },
    activations,
    filters: convFilters(children.map(([, c]) => c), labels),
    histograms: paramHistograms(model),
    saliency,
    saliencyClass,
    probabilities,
  };
}

function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/** |gradient| per pixel, the largest over the channels ([C, H, W] -> [H * W]). */
function channelMaxAbs(g: Float32Array, [c, h, w]: readonly number[]): Float32Array {
  const plane = h! * w!;
  const out = new Float32Array(plane);
  for (let ch = 0; ch < c!; ch++) {
    for (let i = 0; i < plane; i++) out[i] = Math.max(out[i]!, Math.abs(g[ch * plane + i]!));
  }
  return out;
}

function convFilters(layers: ck.nn.Module[], labels: readonly string[]): ConvFilters[] {
  const out: ConvFilters[] = [];
  layers.forEach((m, index) => {
    if (!(m instanceof ck.nn.Conv2d)) return;
    const w = m.weight;
    out.push({
      index,
      label: labels[index] ?? 'CONV',
      shape: w.shape as unknown as [number, number, number, number],
      weight: w.dataSync(),
      grad: w.grad ? w.grad.dataSync() : null,
    });
  });
  return out;
}

function paramHistograms(model: ck.nn.Module): ParamHistogram[] {
  return model.namedParameters().map(([name, p]) => ({
    name,
    weights: histogram(p.values()),
    grads: p.grad ? histogram(p.grad.values()) : null,
  }));
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
