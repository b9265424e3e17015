// ONNX in and out: export a convkit model to ONNX, import an ONNX file as an ordinary Module,
// and check that both compute the same thing.
//
//   node examples/onnx-roundtrip.mjs [model.onnx]
//
// With a file argument the example imports that file (any CNN of the supported operators:
// `ck.io.onnxOperators()`); without one it exports LeNet-5 from the zoo first.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ck from 'convkit/node';

ck.manualSeed(0);
let file = process.argv[2];
let original = null;
if (!file) {
  original = ck.models.createModel('lenet5').eval();
  file = join(mkdtempSync(join(tmpdir(), 'convkit-onnx-')), 'lenet5.onnx');
  // The input shape (per item, [C, H, W]) fixes the graph's shapes; the batch stays free.
  await ck.io.saveOnnx(original, file, { inputShape: [1, 28, 28] });
  console.log(`exported LeNet-5 to ${file}`);
}

const imported = await ck.io.loadOnnx(file); // a Module: forward, summary, fine-tuning, save
console.log(`imported ${file}: ${imported.parameters().reduce((n, p) => n + p.size, 0)} parameters`);

if (original) {
  const x = ck.randn([4, 1, 28, 28], { seed: 1 });
  const [a, b] = ck.noGrad(() => [original.forward(x), imported.forward(x)]);
  const da = a.dataSync();
  const db = b.dataSync();
  let worst = 0;
  for (let i = 0; i < da.length; i++) worst = Math.max(worst, Math.abs(da[i] - db[i]));
  console.log(`outputs ${JSON.stringify(a.shape)}, largest difference ${worst.toExponential(2)}`);
  if (!(worst < 1e-4)) throw new Error('the imported model computes something else');
}
