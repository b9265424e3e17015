// The page: starts the training worker (a module worker from new URL(..., import.meta.url),
// which Vite bundles with convkit inside) and shows its progress. `?epochs=N` sets the epochs.
const log = document.getElementById('log');
const epochs = Number(new URLSearchParams(location.search).get('epochs') ?? 3);
const worker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
worker.onmessage = ({ data }) => {
  if (data.error) {
    log.textContent += `error: ${data.error}\n`;
    window.__result = { error: data.error };
  } else if (data.done) {
    log.textContent += `done: ${(100 * data.accuracy).toFixed(1)}% on held-out images (${data.backend} backend, ${data.threads ? 'threads' : 'one thread'})\n`;
    window.__result = data;
  } else {
    log.textContent += `epoch ${data.epoch}: loss ${data.loss.toFixed(4)}\n`;
  }
};
worker.onerror = (e) => {
  window.__result = { error: `worker error: ${e.message}` };
};
worker.postMessage({ epochs });
