// Times ConvNetJS (PEERS/node_modules/convnetjs) on LeNet-5 and the CIFAR-10 demo net, the
// original workloads: inference of 64 images, and training with its own Trainer (SGD,
// momentum 0.9, batch_size 64), a step being 64 samples.
//   node convnetjs.mjs [--secs 10] [--warmup 1] [--only a,b] [--list]
import { listAndExit, measure, parseArgs, peerRequire, report, selected } from './common.mjs';

const opts = parseArgs();
const nets = {
  lenet5: [{ type: 'input', out_sx: 28, out_sy: 28, out_depth: 1 },
    { type: 'conv', sx: 5, filters: 6, stride: 1, pad: 2, activation: 'relu' }, { type: 'pool', sx: 2, stride: 2 },
    { type: 'conv', sx: 5, filters: 16, stride: 1, pad: 0, activation: 'relu' }, { type: 'pool', sx: 2, stride: 2 },
    { type: 'fc', num_neurons: 120, activation: 'relu' }, { type: 'fc', num_neurons: 84, activation: 'relu' }, { type: 'softmax', num_classes: 10 }],
  cifar_demo: [{ type: 'input', out_sx: 32, out_sy: 32, out_depth: 3 },
    { type: 'conv', sx: 5, filters: 16, stride: 1, pad: 2, activation: 'relu' }, { type: 'pool', sx: 2, stride: 2 },
    { type: 'conv', sx: 5, filters: 20, stride: 1, pad: 2, activation: 'relu' }, { type: 'pool', sx: 2, stride: 2 },
    { type: 'conv', sx: 5, filters: 20, stride: 1, pad: 2, activation: 'relu' }, { type: 'pool', sx: 2, stride: 2 },
    { type: 'softmax', num_classes: 10 }],
};
listAndExit(opts, 'ConvNetJS', selected(opts, Object.keys(nets)).flatMap((w) => w.runs.map(([kind, batch]) => [w.name, kind, batch])));
const convnetjs = peerRequire(opts, 'convnetjs');
for (const w of selected(opts, Object.keys(nets))) {
  for (const [kind, batch] of w.runs) {
    const net = new convnetjs.Net();
    net.makeLayers(nets[w.name]);
    const d = nets[w.name][0];
    const xs = Array.from({ length: batch }, () => new convnetjs.Vol(d.out_sx, d.out_sy, d.out_depth));
    let step;
    if (kind === 'infer') step = () => { for (const x of xs) net.forward(x); };
    else {
      const tr = new convnetjs.Trainer(net, { method: 'sgd', learning_rate: 0.01, momentum: 0.9, batch_size: batch, l2_decay: 0 });
      step = () => xs.forEach((x, i) => tr.train(x, i % 10));
    }
    report('ConvNetJS', w.name, kind, batch, await measure(step, batch, opts));
  }
}
