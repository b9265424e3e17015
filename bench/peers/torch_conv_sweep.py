"""Times PyTorch (CPU) on the convolution layers of bench/conv-sweep.ts: for each layer of the
JSON list on stdin, the forward under no_grad and a training pass (forward, then backward to the
input and the filters), median and fastest of the runs over --secs seconds (at least 3 runs).

  python3 torch_conv_sweep.py [--threads 2] [--secs 0.4] < layers.json

Prints one `result {...}` line per layer, in the order given.
"""
import json, sys, time

opts = {'threads': 2, 'secs': 0.4}
args = sys.argv[1:]
while args:
    key = args.pop(0)
    if not key.startswith('--'): raise SystemExit(__doc__)
    key, _, value = key[2:].partition('=')
    value = value or args.pop(0)
    if key in opts: opts[key] = float(value)
    else: raise SystemExit(f'unknown option --{key}\n{__doc__}')

import torch
import torch.nn.functional as F

torch.set_num_threads(int(opts['threads']))


def timed(fn):
    """Median and fastest ms of fn after two warm-up calls."""
    fn(); fn()
    times, end = [], time.perf_counter() + opts['secs']
    while time.perf_counter() < end or len(times) < 3:
        t = time.perf_counter(); fn(); times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    return [times[len(times) // 2], times[0]]


for layer in json.load(sys.stdin):
    n, c, k, h, r, s, p, d, g = (layer[key] for key in ('n', 'c', 'k', 'h', 'r', 's', 'p', 'd', 'g'))
    x = torch.randn(n, c, h, h, requires_grad=True)
    w = torch.randn(k, c // g, r, r, requires_grad=True)
    conv = lambda: F.conv2d(x, w, None, s, p, d, g)
    with torch.no_grad(): dy = torch.randn_like(conv())

    def forward():
        with torch.no_grad(): conv()

    def train():
        x.grad = None; w.grad = None
        conv().backward(dy)

    print('result ' + json.dumps({'forward': timed(forward), 'train': timed(train)}), flush=True)
