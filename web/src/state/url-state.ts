import { BACKENDS, DATASETS, DEFAULT_RUN, OPTIMIZERS, type BackendName, type DatasetName, type OptimizerName, type RunConfig } from '../shared/run-config.js';

/**
 * The run lives in the URL's fragment (`#net=...&data=digits&seed=1&opt=sgd&lr=0.01&...`):
 * copying the address copies the network, dataset, seed, hyperparameters and backend, and reloading
 * restores them. A fragment (not a query) keeps the page a plain static file on any host.
 */

function num(p: URLSearchParams, key: string, fallback: number): number {
  const v = p.get(key);
  if (v === null || v.trim() === '') return fallback;
  const n = Number(v);
  return Number.isFinite(n) ? n : fallback;
}

function oneOf<T extends string>(value: string | null, allowed: readonly T[], fallback: T): T {
  return value !== null && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}

export function readRun(hash: string): RunConfig {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const d = DEFAULT_RUN;
  return {
    net: p.get('net') ?? d.net,
    dataset: oneOf<DatasetName>(p.get('data'), DATASETS, d.dataset),
    seed: Math.trunc(num(p, 'seed', d.seed)),
    hyper: {
      optimizer: oneOf<OptimizerName>(p.get('opt'), OPTIMIZERS, d.hyper.optimizer),
      lr: num(p, 'lr', d.hyper.lr),
      momentum: num(p, 'mom', d.hyper.momentum),
      batchSize: Math.trunc(num(p, 'bs', d.hyper.batchSize)),
      weightDecay: num(p, 'wd', d.hyper.weightDecay),
    },
    backend: oneOf<BackendName>(p.get('backend'), BACKENDS, d.backend),
  };
}

export function runToHash(run: RunConfig): string {
  const p = new URLSearchParams({
    net: run.net,
    data: run.dataset,
    seed: String(run.seed),
    opt: run.hyper.optimizer,
    lr: String(run.hyper.lr),
    mom: String(run.hyper.momentum),
    bs: String(run.hyper.batchSize),
    wd: String(run.hyper.weightDecay),
  });
  // The default backend is left out, so links from before the selector read the same.
  if (run.backend !== DEFAULT_RUN.backend) p.set('backend', run.backend);
  return `#${p.toString()}`;
}

/** Records the run in the address bar without adding a history entry per keystroke. */
export function writeRun(run: RunConfig): void {
  const hash = runToHash(run);
  if (location.hash !== hash) history.replaceState(null, '', hash);
}
