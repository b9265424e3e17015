// Times onnxruntime inference on every inference run of ../workloads.json, from the ONNX files
// of torch_models.py export.
//   node ort.mjs node|web [--models DIR] [--threads 2] [--secs 10] [--warmup 1] [--only a,b]
// node: onnxruntime-node (native, CPU execution provider); web: onnxruntime-web's WebAssembly
// backend (SIMD, threads) in Node: the WebAssembly peer. Both from PEERS/node_modules.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { measure, parseArgs, peerRequire, randomInput, report, selected } from './common.mjs';

const opts = parseArgs();
const which = opts.positional[0];
if (which !== 'node' && which !== 'web') throw new Error('usage: node ort.mjs node|web [--models DIR] [--threads N] [--secs S] [--only a,b]');
const ort = peerRequire(opts, which === 'node' ? 'onnxruntime-node' : 'onnxruntime-web');
const peer = which === 'node' ? 'onnxruntime-node' : 'onnxruntime-web';
const sessionOptions = which === 'node'
  ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' }
  : { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
if (which === 'web') ort.env.wasm.numThreads = opts.threads;

for (const w of selected(opts)) {
  const runs = w.runs.filter(([kind]) => kind === 'infer');
  if (!runs.length) continue;
  const file = join(opts.models, `${w.name}.onnx`);
  if (!existsSync(file)) { console.error(`${peer}: no ${file} (python3 bench/peers/torch_models.py export ${opts.models})`); continue; }
  const session = await ort.InferenceSession.create(file, sessionOptions);
  for (const [, batch] of runs) {
    const shape = [batch, ...w.input];
    const x = new ort.Tensor('float32', randomInput(shape.reduce((a, b) => a * b, 1)), shape);
    report(peer, w.name, 'infer', batch, await measure(() => session.run({ x }), batch, opts));
  }
  await session.release?.();
}
process.exit(0);
