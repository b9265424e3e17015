// Inference on the page's main thread: a convkit model file and an ONNX file fetched over
// HTTP (a string is a URL in the browser), and the same model file as a File, as an
// <input type=file> gives it. make-models.mjs wrote the files and the expected outputs in Node.
import * as ck from 'convkit';

const out = document.getElementById('predict');

async function run() {
  await ck.setBackend('wasm');
  const expected = await (await fetch('expected.json')).json();
  const x = ck.tensor(expected.input, expected.inputShape);
  const predict = (model) => ck.noGrad(() => Array.from(model.forward(x).dataSync()));
  const fromUrl = await ck.io.load('model.convkit');
  const onnx = await ck.io.loadOnnx(new URL('model.onnx', location.href));
  const bytes = await (await fetch('model.convkit')).arrayBuffer();
  const fromFile = await ck.io.load(new File([bytes], 'model.convkit'));
  // A page has no files to write: saving to a path is an error that says what to use instead.
  const saveError = await fromUrl.save('model.convkit').then(() => 'saved', (e) => `${e.name}: ${e.message}`);
  const result = { expected: expected.output, convkit: predict(fromUrl), onnx: predict(onnx), file: predict(fromFile), saveError };
  out.textContent = `predicted: ${result.convkit.map((v) => v.toFixed(3)).join(' ')}`;
  window.__predict = result;
}

run().catch((e) => {
  window.__predictError = `${e.name}: ${e.message}`;
});
