// Runs in Node, from the installed package: saves a small ConvNet as a convkit model file and
// as ONNX into public/ (by path: the Node side of the same 'convkit' entry), loads both back
// by path, and writes the input and the outputs the browser must reproduce.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as ck from 'convkit';

mkdirSync('public', { recursive: true });
ck.manualSeed(7);
// BatchNorm and Dropout: layers the page never names, so only their registration (package.json
// "sideEffects") lets the page rebuild the model.
const model = new ck.nn.Sequential(
  new ck.nn.Conv2d(1, 4, 3), new ck.nn.BatchNorm2d(4), new ck.nn.ReLU(), new ck.nn.MaxPool2d(2),
  new ck.nn.Flatten(), new ck.nn.Dropout(0.25), new ck.nn.Linear(4 * 13 * 13, 10),
);
model.forward(ck.randn([4, 1, 28, 28], { seed: 5 })); // training mode: BatchNorm's running statistics move
model.eval();
await model.save('public/model.convkit');
await ck.io.saveOnnx(model, 'public/model.onnx', { inputShape: [1, 28, 28] });

const x = ck.randn([2, 1, 28, 28], { seed: 9 });
const output = Array.from(ck.noGrad(() => model.forward(x).dataSync()));
for (const back of [await ck.io.load('public/model.convkit'), await ck.io.loadOnnx('public/model.onnx')]) {
  const y = ck.noGrad(() => back.forward(x).dataSync());
  const worst = Math.max(...output.map((v, i) => Math.abs(v - y[i])));
  if (!(worst < 1e-4)) throw new Error(`Node: a model loaded back by path differs by ${worst}`);
}
writeFileSync('public/expected.json', JSON.stringify({ inputShape: x.shape, input: Array.from(x.dataSync()), output }));
console.log(`make-models: public/model.convkit, public/model.onnx, public/expected.json (backend ${ck.getBackendName()})`);
