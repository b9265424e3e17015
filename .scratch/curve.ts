import * as ck from '../src/index.js';
import { colourShapes } from './colour-shapes.js';
import { buildPattern } from '../src/analysis/pattern-builder.js';
const net = process.argv[2] ?? 'INPUT[32x32x3] -> [CONV3-8 -> RELU -> POOL2]*2 -> CONV3-16 -> RELU -> POOL2 -> FC4';
const lr = Number(process.argv[3] ?? 0.02);
const opt = process.argv[4] ?? 'sgd';
for (const seed of [1, 2]) {
  const train = colourShapes(4000, seed, 't'); const test = colourShapes(1000, seed + 7919, 'v');
  ck.manualSeed(seed);
  const model = ck.nn.fromConfig(buildPattern(net).config);
  const o = opt === 'adam' ? new ck.optim.Adam(model.parameters(), { lr, weightDecay: 0.0005 }) : new ck.optim.SGD(model.parameters(), { lr, momentum: 0.9, weightDecay: 0.0005 });
  const loader = new ck.data.DataLoader(train, { batchSize: 32, shuffle: true, generator: new ck.Generator(seed + 1) });
  let step = 0; const out: string[] = [];
  const evalLoss = () => { const r = ck.train.evaluate(model, new ck.data.DataLoader(test, { batchSize: 250 })); return `${r.loss.toFixed(3)}/${(r.accuracy*100).toFixed(0)}%`; };
  out.push(`0:${evalLoss()}`);
  while (step < 400) for (const b of loader) { ck.tidy(() => { o.zeroGrad(); const l = ck.F.crossEntropy(model.forward(b.x), b.y); l.backward(); o.step(); }); step++; if (step % 50 === 0) out.push(`${step}:${evalLoss()}`); if (step >= 400) break; }
  console.log(`seed ${seed}`, out.join(' '));
}
