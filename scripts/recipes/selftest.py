"""Checks of the twin's own pieces (seconds, CPU): the batched augmentations against per-image
references, the schedule's values, the initialisation's statistics and the EMA update.
  /usr/bin/python3 scripts/recipes/selftest.py"""
import math, types
import torch, torch.nn as nn, torch.nn.functional as F
import common

torch.manual_seed(0)
g = torch.Generator().manual_seed(0)

# random_crop: every output is the window of the zero-padded image at some offset in [0, 2p]^2, and all offsets occur.
x = torch.rand(400, 3, 7, 9)
y = common.random_crop(x, 2, g)
seen = set()
for i in range(len(x)):
    p = F.pad(x[i], (2, 2, 2, 2))
    hits = [(t, l) for t in range(5) for l in range(5) if torch.equal(p[:, t:t + 7, l:l + 9], y[i])]
    assert hits, f'image {i}: not a crop of the padded image'
    seen.update(hits)
assert len(seen) == 25, f'offsets seen: {sorted(seen)}'

# random_hflip: each image flipped or not, about half flipped.
y = common.random_hflip(x, g)
flipped = [torch.equal(y[i], x[i].flip(2)) for i in range(len(x))]
assert all(f or torch.equal(y[i], x[i]) for i, f in enumerate(flipped))
assert 150 < sum(flipped) < 250, sum(flipped)

# random_erasing: zero or one axis-aligned zero rectangle per image, area fraction within [0.02, 0.33], ~half erased.
x = torch.rand(2000, 1, 28, 28) + 0.5  # no zeros of its own
y = common.random_erasing(x, g)
erased = 0
for i in range(len(x)):
    z = (y[i, 0] == 0)
    if not z.any():
        assert torch.equal(y[i], x[i]); continue
    erased += 1
    rows, cols = z.any(1).nonzero().flatten(), z.any(0).nonzero().flatten()
    h, w = len(rows), len(cols)
    assert z.sum() == h * w and rows[-1] - rows[0] + 1 == h and cols[-1] - cols[0] + 1 == w, 'not one rectangle'
    assert 0.02 * 784 * 0.5 <= h * w <= 0.33 * 784 * 1.5 and h < 28 and w < 28, (h, w)
    assert torch.equal(y[i][~z[None]], x[i][~z[None]])
assert 900 < erased < 1100, erased

# lr_at: per-step linear warm-up, then per-epoch cosine over the remaining epochs.
a = types.SimpleNamespace(lr=0.1, warmup=1, epochs=5, schedule='cosine')
assert math.isclose(common.lr_at(a, 0, 0, 10), 0.01) and math.isclose(common.lr_at(a, 0, 9, 10), 0.1)
assert [round(common.lr_at(a, e, 3, 10), 6) for e in range(1, 5)] == [0.1, round(0.1 * (1 + math.cos(math.pi / 4)) / 2, 6), 0.05,
                                                                      round(0.1 * (1 + math.cos(3 * math.pi / 4)) / 2, 6)]
a.warmup = 0
assert common.lr_at(a, 0, 0, 10) == 0.1

# Initialisation: He-normal std sqrt(2 / fan_in), zero biases, BN 1 / 0.
args = types.SimpleNamespace(model='vgg-small-bn', widths='32,64', hidden=256, dropout=0.3)
m = common.build_model(args, 1, 10, 28)
for mod in m.modules():
    if isinstance(mod, (nn.Conv2d, nn.Linear)):
        w = mod.weight
        want = math.sqrt(2 / (w[0].numel()))
        assert abs(w.std().item() / want - 1) < 0.1 and abs(w.mean().item()) < 0.1 * want, (mod, w.std().item(), want)
        assert mod.bias is None or not mod.bias.any()
    if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
        assert (mod.weight == 1).all() and not mod.bias.any() and mod.momentum == 0.1 and mod.eps == 1e-5
assert common.param_count(m) == 871338, common.param_count(m)
for depth, params in [(20, 0.27e6), (32, 0.46e6), (56, 0.85e6)]:
    r = common.build_model(types.SimpleNamespace(model=f'resnet{depth}'), 3, 10, 32)
    assert abs(common.param_count(r) - params) / params < 0.02, (depth, common.param_count(r))
    assert r(torch.zeros(2, 3, 32, 32)).shape == (2, 10)

# EMA: d * ema + (1 - d) * w on parameters and float buffers; the batch counter copied.
m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
e = common.EMA(m, 0.9)
before = [t.clone() for t in e.tensors(e.model)]
with torch.no_grad():
    for t in m.parameters(): t.add_(1.0)
m.train()(torch.randn(4, 3))
e.update()
for b, t_e, t_w in zip(before, e.tensors(e.model), e.tensors(m)):
    if t_e.is_floating_point(): assert torch.allclose(t_e, 0.9 * b + 0.1 * t_w)
    else: assert torch.equal(t_e, t_w)
print('selftest: ok')
