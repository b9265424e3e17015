// The page side: starts the training worker (the pattern Vite, webpack 5 and browsers
// understand: a module worker from new URL(..., import.meta.url)) and shows the loss.
const out = document.getElementById('train');
const worker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
worker.onmessage = ({ data }) => {
  if (data.error) window.__trainError = data.error;
  else if (data.note) out.textContent += `${data.note}\n`;
  else if (data.done) {
    out.textContent += `done: ${data.backend} backend, ${data.isolated ? 'threads (cross-origin isolated)' : 'single thread'}, ${data.ms.toFixed(0)} ms\n`;
    window.__train = data;
  } else out.textContent += `step ${data.step + 1}: loss ${data.loss.toFixed(4)}\n`;
};
worker.onerror = (e) => {
  window.__trainError = `worker error: ${e.message}`;
};
worker.postMessage({ steps: 12, batch: 32 });
