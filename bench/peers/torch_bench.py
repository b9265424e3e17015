"""Times PyTorch (CPU) on every run of ../workloads.json: inference under no_grad in eval mode,
and training steps (cross-entropy, backward, SGD lr 0.01 momentum 0.9) in train mode, with the
measuring rule of bench/timing.ts: a warm-up, then steps back to back for at least --secs seconds
and 3 steps; images over wall time (GC and pauses included), the median step beside it.

  python3 torch_bench.py [--threads 2] [--secs 10] [--warmup 1] [--only a,b] [--list]

Prints `params {...}` (the model's parameter count) and `result {...}` lines for bench/peers.ts;
--list prints a `run {...}` line per run it would time instead, without importing torch.
"""
import json, os, sys, time

opts = {'threads': 2, 'secs': 10.0, 'warmup': 1.0, 'only': None, 'list': False}
args = sys.argv[1:]
while args:
    key = args.pop(0)
    if not key.startswith('--'): raise SystemExit(__doc__)
    if key == '--list': opts['list'] = True; continue
    key, _, value = key[2:].partition('=')
    value = value or args.pop(0)
    if key == 'only': opts['only'] = value.split(',')
    elif key in ('threads', 'secs', 'warmup'): opts[key] = float(value)
    else: raise SystemExit(f'unknown option --{key}\n{__doc__}')
peer = 'PyTorch'
if opts['list']:
    suite = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'workloads.json')))['workloads']
    for w in suite:
        if opts['only'] and w['name'] not in opts['only']: continue
        for kind, batch in w['runs']: print('run ' + json.dumps({'peer': peer, 'workload': w['name'], 'kind': kind, 'batch': batch}))
    sys.exit(0)

import torch, torch.nn as nn
from torch_models import WORKLOADS, build, param_count
torch.set_num_threads(int(opts['threads']))
torch.set_num_interop_threads(1)


def measure(step, batch):
    t0 = time.perf_counter(); n = 0
    while n < 1 or time.perf_counter() - t0 < opts['warmup']: step(); n += 1
    ts = []; t0 = now = time.perf_counter()
    while now - t0 < opts['secs'] or len(ts) < 3:
        step(); t = time.perf_counter(); ts.append(t - now); now = t
    wall = now - t0; ts.sort()
    return {'imagesPerS': len(ts) * batch / wall, 'medianMs': ts[len(ts) // 2] * 1e3, 'minMs': ts[0] * 1e3, 'steps': len(ts), 'wallS': wall}


for w in WORKLOADS:
    if opts['only'] and w['name'] not in opts['only']: continue
    print('params ' + json.dumps({'peer': peer, 'workload': w['name'], 'params': param_count(build(w['name']))}), flush=True)
    for kind, batch in w['runs']:
        m = build(w['name'])
        torch.manual_seed(1)
        x = torch.randn(batch, *w['input'])
        if kind == 'infer':
            m.eval()
            def step():
                with torch.no_grad(): m(x)
        else:
            m.train()
            y = torch.randint(0, w['classes'], (batch,))
            opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9); lossf = nn.CrossEntropyLoss()
            def step():
                opt.zero_grad(); loss = lossf(m(x), y); loss.backward(); opt.step()
        r = measure(step, batch)
        print('result ' + json.dumps({'peer': peer, 'workload': w['name'], 'kind': kind, 'batch': batch, **r}), flush=True)
        print(f"{peer} {kind} {w['name']} b{batch}: {r['imagesPerS']:.1f} img/s, median {r['medianMs']:.2f} ms ({r['steps']} steps)", file=sys.stderr, flush=True)
        del m
