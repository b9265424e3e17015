// The worker: everything convkit does happens here, off the page's main thread. On a
// cross-origin isolated page (COOP/COEP headers, see vite.config.js) the wasm backend also
// runs its kernels on threads of its own.
import * as ck from 'convkit';

const { F, nn, optim } = ck;
const SIZE = 16;

/** n images [1, SIZE, SIZE] of a bright bar on noise: label 0 horizontal, 1 vertical. */
function bars(n, seed) {
  const g = new ck.Generator(seed);
  const x = new Float32Array(n * SIZE * SIZE);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const vertical = g.uniform() < 0.5;
    const at = 2 + Math.floor(g.uniform() * (SIZE - 4));
    y[i] = vertical ? 1 : 0;
    for (let r = 0; r < SIZE; r++) {
      for (let c = 0; c < SIZE; c++) {
        const on = vertical ? c === at : r === at;
        x[i * SIZE * SIZE + r * SIZE + c] = (on ? 0.8 : 0) + 0.2 * g.uniform();
      }
    }
  }
  return new ck.data.TensorDataset(ck.tensor(x, [n, 1, SIZE, SIZE]), ck.tensor(y, [n], { dtype: 'int32' }));
}

self.onmessage = async ({ data }) => {
  try {
    try {
      await ck.setBackend('wasm');
    } catch {
      // No WebAssembly SIMD here: the js backend trains too, more slowly.
    }
    ck.manualSeed(1);
    const model = new nn.Sequential(
      new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(8, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(16 * (SIZE / 4) * (SIZE / 4), 2),
    );
    const train = new ck.data.DataLoader(bars(256, 2), { batchSize: 32, shuffle: true });
    const test = new ck.data.DataLoader(bars(128, 3), { batchSize: 128 });
    const trainer = new ck.train.Trainer(model, {
      train,
      validation: test,
      optimizer: new optim.Adam(model.parameters(), { lr: 0.01 }),
      epochs: data.epochs,
      callbacks: { onEpoch: (e) => self.postMessage({ epoch: e.epoch, loss: e.trainLoss }) },
    });
    const result = await trainer.fit();
    const last = result.history[result.history.length - 1];
    self.postMessage({ done: true, accuracy: last.valAccuracy, losses: result.history.map((e) => e.trainLoss), backend: ck.getBackendName(), threads: self.crossOriginIsolated === true });
  } catch (e) {
    self.postMessage({ error: `${e.name}: ${e.message}` });
  }
};
