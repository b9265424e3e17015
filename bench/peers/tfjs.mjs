// Times TensorFlow.js on the original workloads it ran before the suite grew (conv3x3_64x56,
// lenet5, cifar_demo; VGG-16 on wasm), NHWC, from PEERS/node_modules.
//   node tfjs.mjs cpu|wasm [--secs 10] [--warmup 1] [--only a,b] [--list]
// Training: the cpu backend trains LeNet-5 (the wasm backend has no convolution gradients);
// the CIFAR demo's step takes some 40 s there, so it is left out to keep the suite short.
import { listAndExit, measure, parseArgs, peerRequire, report, selected } from './common.mjs';

const opts = parseArgs();
const backend = opts.positional[0];
if (backend !== 'cpu' && backend !== 'wasm') throw new Error('usage: node tfjs.mjs cpu|wasm [--secs S] [--only a,b] [--list]');
const peer = `tfjs-${backend}`;
const inferHere = backend === 'wasm' ? ['conv3x3_64x56', 'vgg16', 'lenet5', 'cifar_demo'] : ['conv3x3_64x56', 'lenet5', 'cifar_demo'];
const trainHere = backend === 'cpu' ? ['lenet5'] : [];
const plan = selected(opts, [...new Set([...inferHere, ...trainHere])])
  .flatMap((w) => w.runs.filter(([kind]) => (kind === 'infer' ? inferHere : trainHere).includes(w.name)).map(([kind, batch]) => [w, kind, batch]));
listAndExit(opts, peer, plan.map(([w, kind, batch]) => [w.name, kind, batch]));

const tf = peerRequire(opts, '@tensorflow/tfjs');
if (backend === 'wasm') {
  const w = peerRequire(opts, '@tensorflow/tfjs-backend-wasm');
  w.setWasmPaths(`${opts.peers}/node_modules/@tensorflow/tfjs-backend-wasm/dist/`);
}
await tf.setBackend(backend);
await tf.ready();
const L = tf.layers;

const nets = {
  conv3x3_64x56: () => tf.sequential({ layers: [L.conv2d({ inputShape: [56, 56, 64], filters: 64, kernelSize: 3, padding: 'same' })] }),
  lenet5: () => tf.sequential({ layers: [
    L.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, padding: 'same', activation: 'relu' }), L.maxPooling2d({ poolSize: 2 }),
    L.conv2d({ filters: 16, kernelSize: 5, activation: 'relu' }), L.maxPooling2d({ poolSize: 2 }), L.flatten(),
    L.dense({ units: 120, activation: 'relu' }), L.dense({ units: 84, activation: 'relu' }), L.dense({ units: 10 })] }),
  cifar_demo: () => tf.sequential({ layers: [
    L.conv2d({ inputShape: [32, 32, 3], filters: 16, kernelSize: 5, padding: 'same', activation: 'relu' }), L.maxPooling2d({ poolSize: 2 }),
    L.conv2d({ filters: 20, kernelSize: 5, padding: 'same', activation: 'relu' }), L.maxPooling2d({ poolSize: 2 }),
    L.conv2d({ filters: 20, kernelSize: 5, padding: 'same', activation: 'relu' }), L.maxPooling2d({ poolSize: 2 }), L.flatten(), L.dense({ units: 10 })] }),
  vgg16: () => {
    const ls = [];
    for (const v of [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M']) {
      if (v === 'M') ls.push(L.maxPooling2d({ poolSize: 2 }));
      else ls.push(L.conv2d({ ...(ls.length ? {} : { inputShape: [224, 224, 3] }), filters: v, kernelSize: 3, padding: 'same', activation: 'relu' }));
    }
    ls.push(L.flatten(), L.dense({ units: 4096, activation: 'relu' }), L.dense({ units: 4096, activation: 'relu' }), L.dense({ units: 1000 }));
    return tf.sequential({ layers: ls });
  },
};
const nhwc = ([c, h, w]) => [h, w, c];

for (const [w, kind, batch] of plan) {
  const m = nets[w.name]();
  const x = tf.randomNormal([batch, ...nhwc(w.input)]);
  let result;
  if (kind === 'infer') {
    result = await measure(async () => { const y = m.predict(x); await y.data(); y.dispose(); }, batch, opts);
  } else {
    m.compile({ optimizer: tf.train.momentum(0.01, 0.9), loss: tf.losses.softmaxCrossEntropy });
    const y = tf.oneHot(tf.randomUniform([batch], 0, w.classes, 'int32'), w.classes);
    result = await measure(() => m.trainOnBatch(x, y), batch, opts);
    y.dispose();
  }
  report(peer, w.name, kind, batch, result);
  m.dispose();
  x.dispose();
}
