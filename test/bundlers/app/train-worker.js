// The training worker of the consumer apps (scripts/bundlers-test.mjs): what a web developer
// writes, importing only tensors, layers and training from 'convkit' (the size budget is
// measured on this file's bundle). Training runs here, off the page's main thread; with a
// cross-origin isolated page the wasm backend also starts its own threads from here.
import { F, getBackendName, manualSeed, nn, optim, randint, randn, setBackend, tidy } from 'convkit';

self.onmessage = async ({ data }) => {
  try {
    let backend = 'js';
    try {
      await setBackend('wasm');
      backend = getBackendName();
    } catch (e) {
      // No WebAssembly SIMD: the js backend trains too, slowly.
      self.postMessage({ note: `wasm backend unavailable: ${e.message}` });
    }
    manualSeed(1);
    // LeNet-5 on one fixed batch of noise: the loss falls below chance (ln 10) as the network
    // memorizes it.
    const model = new nn.Sequential(
      new nn.Conv2d(1, 6, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(6, 16, 5), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(400, 120), new nn.ReLU(), new nn.Linear(120, 84), new nn.ReLU(), new nn.Linear(84, 10),
    );
    const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.5 });
    const x = randn([data.batch, 1, 28, 28], { seed: 2 });
    const y = randint(0, 10, [data.batch], { seed: 3 });
    const losses = [];
    const t0 = performance.now();
    for (let step = 0; step < data.steps; step++) {
      const loss = tidy(() => {
        const l = F.crossEntropy(model.forward(x), y);
        l.backward();
        opt.step();
        opt.zeroGrad();
        return l.item();
      });
      losses.push(loss);
      self.postMessage({ step, loss });
    }
    const ms = performance.now() - t0;
    // What this worker downloaded: its own script, the chunks it imported, the wasm kernels.
    const fetched = [self.location.href, ...performance.getEntriesByType('resource').map((r) => r.name)];
    self.postMessage({ done: true, backend, isolated: self.crossOriginIsolated === true, losses, ms, fetched });
  } catch (e) {
    self.postMessage({ error: `${e.name}: ${e.message}` });
  }
};
