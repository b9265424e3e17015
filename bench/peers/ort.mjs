// Times onnxruntime inference on every inference run of ../workloads.json, from the ONNX files
// of torch_models.py export.
//   node ort.mjs node|web [--models DIR] [--threads 2] [--secs 10] [--warmup 1] [--only a,b] [--list]
// node: onnxruntime-node (native, CPU execution provider); web: onnxruntime-web's WebAssembly
// backend (SIMD, threads) in Node: the WebAssembly peer. Both from PEERS/node_modules.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { listAndExit, measure, parseArgs, peerRequire, randomInput, report, selected } from './common.mjs';

const opts = parseArgs();
const which = opts.positional[0];
if (which !== 'node' && which !== 'web') throw new Error('usage: node ort.mjs node|web [--models DIR] [--threads N] [--secs S] [--only a,b] [--list]');
const peer = which === 'node' ? 'onnxruntime-node' : 'onnxruntime-web';
const file = (w) => join(opts.models, `${w.name}.onnx`);
const todo = selected(opts).filter((w) => w.runs.some(([kind]) => kind === 'infer'));
for (const w of todo) if (!existsSync(file(w))) console.error(`${peer}: no ${file(w)} (python3 bench/peers/torch_models.py export ${opts.models})`);
const ready = todo.filter((w) => existsSync(file(w)));
listAndExit(opts, peer, ready.flatMap((w) => w.runs.filter(([kind]) => kind === 'infer').map(([kind, batch]) => [w.name, kind, batch])));

const ort = peerRequire(opts, which === 'node' ? 'onnxruntime-node' : 'onnxruntime-web');
const sessionOptions = which === 'node'
  ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' }
  : { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
if (which === 'web') ort.env.wasm.numThreads = opts.threads;

for (const w of ready) {
  const session = await ort.InferenceSession.create(file(w), sessionOptions);
  for (const [, batch] of w.runs.filter(([kind]) => kind === 'infer')) {
    const shape = [batch, ...w.input];
    const x = new ort.Tensor('float32', randomInput(shape.reduce((a, b) => a * b, 1)), shape);
    report(peer, w.name, 'infer', batch, await measure(() => session.run({ x }), batch, opts));
  }
  await session.release?.();
}
process.exit(0);
