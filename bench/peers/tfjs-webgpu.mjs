// Times TensorFlow.js on its WebGPU backend (@tensorflow/tfjs-backend-webgpu, from PEERS/node_modules)
// on the suite of ../webgpu-workloads.json, NHWC, on the adapter that convkit's webgpu backend uses
// in Node: navigator.gpu from the `webgpu` package (Dawn), natively, else OpenGL ES through EGL
// without a display (as src/backend/webgpu/node-provider.ts does).
//   node tfjs-webgpu.mjs [--quick] [--secs 5] [--warmup 1] [--only a,b] [--list]
// What it expresses: the GEMM, the CONV layer, VGG-16 / ResNet-18 / ResNet-50 inference (tf.layers),
// LeNet-5 and ResNet-18 training (optimizer.minimize, SGD momentum). Not CIFAR ResNet-20: its
// option-A shortcuts (stride-2 subsampling with zero channels) need a custom layer in tf.layers.
// Timing as bench/webgpu-suite.ts: batches of steps, each batch ends by reading its last result.
import { readFileSync } from 'node:fs';
import { listAndExit, parseArgs, peerRequire, report } from './common.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const opts = parseArgs(argv.filter((a) => a !== '--quick'));
const peer = 'tfjs-webgpu';
const suite = JSON.parse(readFileSync(new URL('../webgpu-workloads.json', import.meta.url), 'utf8')).workloads
  .map((w) => (quick && w.quick ? { ...w, ...w.quick } : w));
const HERE = ['gemm4096', 'conv3x3_256x56', 'vgg16', 'resnet18', 'resnet50', 'lenet5', 'resnet18_112'];
const plan = suite.filter((w) => HERE.includes(w.name) && (!opts.only || opts.only.includes(w.name)))
  .flatMap((w) => (w.kind === 'gemm' ? [1] : w.batches).map((b) => [w, b]));
listAndExit(opts, peer, plan.map(([w, b]) => [w.name, w.kind, b]));

// navigator.gpu before tfjs-backend-webgpu loads: it registers itself only where there is one.
const { create, globals } = await import('webgpu');
Object.assign(globalThis, globals);
let gpu = create([]);
if (!(await gpu.requestAdapter())) {
  process.env.EGL_PLATFORM ??= 'surfaceless';
  process.env.XDG_RUNTIME_DIR ??= (await import('node:os')).tmpdir();
  gpu = create(['backend=opengles']);
}
// Software adapters offer only WebGPU's compatibility level, which tfjs does not ask for.
const native = gpu;
const shim = { requestAdapter: async (o) => (await native.requestAdapter(o)) ?? native.requestAdapter({ ...o, featureLevel: 'compatibility' }), getPreferredCanvasFormat: () => 'rgba8unorm', wgslLanguageFeatures: native.wgslLanguageFeatures };
globalThis.navigator = { gpu: shim };

const tf = peerRequire(opts, '@tensorflow/tfjs');
peerRequire(opts, '@tensorflow/tfjs-backend-webgpu');
if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not start its webgpu backend');
await tf.ready();
const L = tf.layers;

const convBn = (x, filters, k, stride, relu) => {
  let y = L.conv2d({ filters, kernelSize: k, strides: stride, padding: 'same', useBias: false }).apply(x);
  y = L.batchNormalization({ epsilon: 1e-5, momentum: 0.9 }).apply(y);
  return relu ? L.reLU().apply(y) : y;
};
/** torchvision's ResNet: 'basic' blocks (18) or 'bottleneck' (50, stride on the 3x3). */
function resnet(input, blocks, bottleneck) {
  const inp = tf.input({ shape: input });
  let x = convBn(inp, 64, 7, 2, true);
  x = L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(x);
  let c = 64;
  [64, 128, 256, 512].forEach((width, stage) => {
    for (let i = 0; i < blocks[stage]; i++) {
      const stride = i === 0 && stage > 0 ? 2 : 1;
      const out = bottleneck ? width * 4 : width;
      const y = bottleneck
        ? convBn(convBn(convBn(x, width, 1, 1, true), width, 3, stride, true), out, 1, 1, false)
        : convBn(convBn(x, width, 3, stride, true), width, 3, 1, false);
      const sc = stride !== 1 || c !== out ? convBn(x, out, 1, stride, false) : x;
      x = L.reLU().apply(L.add().apply([y, sc]));
      c = out;
    }
  });
  x = L.globalAveragePooling2d({}).apply(x);
  return tf.model({ inputs: inp, outputs: L.dense({ units: 1000 }).apply(x) });
}
const nets = {
  vgg16: (input) => {
    const ls = [];
    for (const v of [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M']) {
      if (v === 'M') ls.push(L.maxPooling2d({ poolSize: 2 }));
      else ls.push(L.conv2d({ ...(ls.length ? {} : { inputShape: input }), filters: v, kernelSize: 3, padding: 'same', activation: 'relu' }));
    }
    ls.push(L.flatten(), L.dense({ units: 4096, activation: 'relu' }), L.dense({ units: 4096, activation: 'relu' }), L.dense({ units: 1000 }));
    return tf.sequential({ layers: ls });
  },
  resnet18: (input) => resnet(input, [2, 2, 2, 2], false),
  resnet50: (input) => resnet(input, [3, 4, 6, 3], true),
  lenet5: (input) => tf.sequential({ layers: [
    L.conv2d({ inputShape: input, filters: 6, kernelSize: 5, padding: 'same', activation: 'relu' }), L.maxPooling2d({ poolSize: 2 }),
    L.conv2d({ filters: 16, kernelSize: 5, activation: 'relu' }), L.maxPooling2d({ poolSize: 2 }), L.flatten(),
    L.dense({ units: 120, activation: 'relu' }), L.dense({ units: 84, activation: 'relu' }), L.dense({ units: 10 })] }),
};
const nhwc = ([c, h, w]) => [h, w, c];

/** bench/webgpu-suite.ts's measureGpu: `step` returns a tensor; each batch waits for its last. */
async function measureGpu(step, items) {
  const t = quick ? { secs: 0, warmupS: 0, minSteps: 2 } : { secs: opts.secs, warmupS: opts.warmup, minSteps: 3 };
  let last = null;
  const run = () => { const out = step(); last?.dispose(); return (last = out); };
  let t0 = performance.now();
  let one = 0;
  for (let n = 0; n < 1 || performance.now() - t0 < t.warmupS * 1000; n++) {
    const s = performance.now();
    await run().data();
    one = performance.now() - s;
  }
  const perBatch = Math.max(1, Math.min(64, Math.round(Math.min(250, (t.secs * 1000) / 4) / Math.max(one, 1e-3))));
  const perStep = [];
  let steps = 0;
  t0 = performance.now();
  let now = t0;
  while (now - t0 < t.secs * 1000 || steps < t.minSteps) {
    for (let i = 0; i < perBatch; i++) run();
    await last.data();
    const end = performance.now();
    perStep.push((end - now) / perBatch);
    steps += perBatch;
    now = end;
  }
  last.dispose();
  const wallS = (now - t0) / 1000;
  perStep.sort((a, b) => a - b);
  const h = perStep.length >> 1;
  const medianMs = perStep.length % 2 ? perStep[h] : (perStep[h - 1] + perStep[h]) / 2;
  return { imagesPerS: (steps * items) / wallS, medianMs, minMs: perStep[0], steps, wallS };
}

for (const [w, batch] of plan) {
  let result;
  let flops = 0;
  if (w.kind === 'gemm') {
    const a = tf.randomNormal([w.n, w.n]);
    const b = tf.randomNormal([w.n, w.n]);
    result = await measureGpu(() => tf.matMul(a, b), 1);
    flops = 2 * w.n ** 3;
    tf.dispose([a, b]);
  } else if (w.kind === 'conv') {
    const x = tf.randomNormal([batch, w.hw, w.hw, w.cin]);
    const f = tf.randomNormal([w.k, w.k, w.cin, w.cout], 0, 0.05);
    const bias = tf.zeros([w.cout]);
    result = await measureGpu(() => tf.fused.conv2d({ x, filter: f, strides: 1, pad: 'same', bias }), batch);
    flops = 2 * w.cout * w.hw * w.hw * w.cin * w.k * w.k;
    tf.dispose([x, f, bias]);
  } else {
    const m = nets[w.model ?? w.name](nhwc(w.input));
    const x = tf.randomNormal([batch, ...nhwc(w.input)]);
    if (w.kind === 'infer') {
      result = await measureGpu(() => m.predict(x), batch);
    } else {
      const y = tf.oneHot(tf.randomUniform([batch], 0, w.classes, 'int32'), w.classes);
      const opt = tf.train.momentum(0.01, 0.9);
      // A step reads nothing back: minimize returns the loss, which each batch's end waits for.
      result = await measureGpu(() => opt.minimize(() => tf.losses.softmaxCrossEntropy(y, m.apply(x, { training: true })), true), batch);
      tf.dispose([y]);
      opt.dispose();
    }
    m.dispose();
    x.dispose();
  }
  report(peer, w.name, w.kind, batch, { ...result, gflops: flops ? (flops * result.imagesPerS) / 1e9 : null });
}
