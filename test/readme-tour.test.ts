import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import * as ck from '../src/index.js';

/** The README's quick tour, line for line (a README whose example does not run is a bug). */
it('the README quick tour runs as written', async () => {
  const { F, nn } = ck;
  const x = ck.randn([8, 3, 32, 32], { seed: 1 });
  const w = ck.randn([16, 3, 5, 5], { requiresGrad: true });
  const y = F.conv2d(x, w, undefined, { stride: 1, padding: 2 });
  expect(y.shape).toEqual([8, 16, 32, 32]);
  F.sum(F.relu(y)).backward();
  expect(w.grad!.shape).toEqual(w.shape);

  expect(() => F.conv2d(ck.zeros([1, 3, 10, 10]), ck.zeros([2, 3, 3, 3]), undefined, { stride: 2 })).toThrow(
    /\(10 - 3 \+ 2\*0\)\/2 \+ 1 = 4.5 is not an integer/,
  );

  const model = new nn.Sequential(
    new nn.Conv2d(1, 6, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(6, 16, 5), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(400, 120), new nn.ReLU(), new nn.Linear(120, 10),
  );
  const opt = new ck.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const images = ck.rand([64, 1, 28, 28]);
  const labels = ck.randint(0, 10, [64]);
  ck.tidy(() => {
    const loss = F.crossEntropy(model.forward(images), labels);
    loss.backward();
    opt.step();
    opt.zeroGrad();
  });

  const report = ck.analysis.summarize(ck.models.zooConfig('vgg16'), { input: [3, 224, 224] });
  expect(report.totals.params).toBe(138_357_544);
  const { model: net } = ck.analysis.modelFromPattern('INPUT[32x32x3] -> [[CONV3-16 -> RELU]*2 -> POOL2]*3 -> [FC64 -> RELU]*2 -> FC10');
  expect(net.forward(ck.zeros([1, 3, 32, 32])).shape).toEqual([1, 10]);

  const file = join(mkdtempSync(join(tmpdir(), 'ck-tour-')), 'lenet.convkit');
  await model.save(file);
  const again = await ck.io.load(file);
  expect(again.forward(images).dataSync()).toEqual(ck.noGrad(() => model.eval().forward(images)).dataSync());
});
