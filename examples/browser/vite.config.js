// Cross-origin isolation (COOP/COEP) lets the wasm backend share memory with threads of its own;
// without these headers convkit still runs, on one thread.
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
export default { server: { headers: isolation }, preview: { headers: isolation } };
