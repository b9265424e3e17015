"""The PyTorch twin of `convkit train --recipe <name>`: data, models, initialisation, augmentation,
schedule, EMA and the training loop, shared by the per-recipe scripts (mnist.py, fashion_mnist.py).

Like for like with convkit (each choice names the convkit code it mirrors):
- data: IDX gzip files, pixels / 255 in [0, 1]; a seeded validation hold-out of
  round(n * val_fraction) images (cli/commands/train.ts: randomSplit); per-channel mean and
  population std (ddof 0) fitted on the training part only (cli/input-normalization.ts).
- init: every Conv2d and Linear weight He-normal, std sqrt(2 / fan_in), biases zero; batch norm
  weight 1, bias 0, eps 1e-5, momentum 0.1 in PyTorch's convention (nn/init.ts, nn/norm-settings.ts).
- SGD with Nesterov momentum (optim/sgd.ts is torch.optim.SGD's formula), weight decay on every
  parameter (batch-norm and biases included), as convkit's --weight-decay.
- lr: linear warm-up per step over the first `warmup` epochs, then cosine annealing per epoch over
  the remaining epochs (optim/lr-scheduler.ts CosineAnnealingLR): see lr_at().
- augmentation before normalization, on whole batches with tensor ops (see augment()).
- validation after each epoch and the test set at the end in eval mode, batch 256, on the EMA
  weights when --ema is on; the training loss uses label smoothing, the evaluation loss does not.

The data path: the images stay uint8 in memory; a DataLoader with a BatchSampler fetches each
shuffled batch with one indexing operation (no per-sample Python), and augmentation runs on the
whole batch in the main process (per-image random crops by gather, flips by torch.where, random
erasing by masks). No DataLoader workers: on a 2-core machine they would take cores from the
intra-op threads that run the convolutions.
"""
import argparse, copy, gzip, json, math, os, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
sys.path.insert(0, os.path.join(REPO, 'bench', 'peers'))
from torch_models import Block  # noqa: E402  (the CIFAR ResNet block, option-A shortcut, shared with the benchmarks)

DATA_DIRS = {
    'mnist': os.path.join(REPO, 'assets', 'digits'),
    'fashion-mnist': '/usr/share/datasets/fashion-mnist',
}

# Every number of each recipe; each is also a command-line flag (flags override the recipe).
RECIPES = {
    'mnist': dict(data='mnist', model='vgg-small-bn', epochs=8, batch_size=128, lr=0.1, momentum=0.9, nesterov=True,
                  weight_decay=5e-4, warmup=1, schedule='cosine', augment='standard', hflip=False, crop_padding=2,
                  label_smoothing=0.1, ema=0.0, val_fraction=0.1, normalize='channel'),
    'fashion-mnist': dict(data='fashion-mnist', model='vgg-small-bn', epochs=15, batch_size=128, lr=0.1, momentum=0.9,
                          nesterov=True, weight_decay=5e-4, warmup=1, schedule='cosine', augment='standard', hflip=True,
                          crop_padding=2, label_smoothing=0.1, ema=0.0, val_fraction=0.1, normalize='channel'),
}


# ---------------------------------------------------------------- data

def read_idx(path):
    """An IDX file (gzipped) as a numpy array of its declared shape."""
    raw = gzip.open(path).read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(name, split):
    """(uint8 images [N, 1, 28, 28], int64 labels [N])."""
    prefix = 'train' if split == 'train' else 't10k'
    d = DATA_DIRS[name]
    x = read_idx(os.path.join(d, f'{prefix}-images-idx3-ubyte.gz'))
    y = read_idx(os.path.join(d, f'{prefix}-labels-idx1-ubyte.gz'))
    return torch.from_numpy(x.copy()).unsqueeze(1), torch.from_numpy(y.astype(np.int64))


def subset(x, y, n, gen):
    """n images drawn at random (convkit's --train-size / --test-size), or all."""
    if n is None or n >= len(x): return x, y
    idx = torch.randperm(len(x), generator=gen)[:n]
    return x[idx], y[idx]


def js_round(v):
    """JavaScript's Math.round (halves up), which convkit uses for the validation size."""
    return int(math.floor(v + 0.5))


def channel_stats(x_uint8):
    """Per-channel mean and population std (ddof 0) of the images in [0, 1], in float64 as convkit sums."""
    c = x_uint8.shape[1]
    v = x_uint8.transpose(0, 1).reshape(c, -1).double() / 255.0
    mean = v.mean(1)
    std = ((v - mean[:, None]) ** 2).mean(1).sqrt()
    return mean.float(), std.float()


# ---------------------------------------------------------------- augmentation (whole batches)

def random_crop(x, padding, gen):
    """Each image zero-padded by `padding` on every side, then cropped back to its size at a
    uniformly random offset in [0, 2 * padding] (its own offset per image; RandomCrop)."""
    n, c, h, w = x.shape
    p = F.pad(x, (padding,) * 4)
    top = torch.randint(0, 2 * padding + 1, (n,), generator=gen)
    left = torch.randint(0, 2 * padding + 1, (n,), generator=gen)
    rows = (top[:, None] + torch.arange(h))[:, :, None]  # [n, h, 1]
    cols = (left[:, None] + torch.arange(w))[:, None, :]  # [n, 1, w]
    batch = torch.arange(n)[:, None, None]
    # Advanced indices around the channel slice put the index dims first: [n, h, w, c].
    return p.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2).contiguous()


def random_hflip(x, gen, p=0.5):
    flip = torch.rand(x.shape[0], generator=gen) < p
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def random_erasing(x, gen, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0.0, attempts=10):
    """torchvision.transforms.RandomErasing (its defaults), per image: with probability p, the first of
    up to 10 drawn rectangles (area a fraction in `scale` of the image, aspect log-uniform in `ratio`)
    that fits is set to `value`; none fits, nothing is erased."""
    n, c, h, w = x.shape
    area = h * w
    erase = torch.rand(n, generator=gen) < p
    target = area * torch.empty(n, attempts).uniform_(scale[0], scale[1], generator=gen)
    log_r = torch.empty(n, attempts).uniform_(math.log(ratio[0]), math.log(ratio[1]), generator=gen)
    aspect = log_r.exp()
    eh = (target * aspect).sqrt().round().long()
    ew = (target / aspect).sqrt().round().long()
    fits = (eh < h) & (ew < w)
    first = torch.where(fits.any(1), fits.long().argmax(1), torch.zeros(n, dtype=torch.long))
    erase &= fits.any(1)
    pick = torch.arange(n)
    eh, ew = eh[pick, first], ew[pick, first]
    top = (torch.rand(n, generator=gen) * (h - eh + 1).clamp(min=1)).long()
    left = (torch.rand(n, generator=gen) * (w - ew + 1).clamp(min=1)).long()
    r = torch.arange(h)[None, :, None]
    col = torch.arange(w)[None, None, :]
    mask = ((r >= top[:, None, None]) & (r < (top + eh)[:, None, None]) &
            (col >= left[:, None, None]) & (col < (left + ew)[:, None, None]) & erase[:, None, None])
    return x.masked_fill(mask[:, None], value)


def augment(x, args, gen):
    """The --augment preset on a batch in [0, 1] (before normalization, as convkit):
    standard = random crop with zero padding (+ horizontal flip where the recipe allows it);
    strong = standard + random erasing (value 0)."""
    if args.augment == 'none': return x
    x = random_crop(x, args.crop_padding, gen)
    if args.hflip: x = random_hflip(x, gen)
    if args.augment == 'strong': x = random_erasing(x, gen)
    return x


# ---------------------------------------------------------------- models

def conv_bn_relu(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def vgg_small_bn(in_channels=1, classes=10, size=28, widths=(32, 64), hidden=256, dropout=0.3):
    """[CONV3-w -> BN -> ReLU] x 2 -> MaxPool2 per width, then FC-hidden -> BN1d -> ReLU -> Dropout -> FC-classes."""
    layers, c = [], in_channels
    for w in widths:
        layers += conv_bn_relu(c, w) + conv_bn_relu(w, w) + [nn.MaxPool2d(2)]
        c, size = w, size // 2
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * size * size, hidden, bias=True), nn.BatchNorm1d(hidden),
                         nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(hidden, classes))


def cifar_resnet(depth, in_channels=1, classes=10):
    """The CIFAR ResNets of He et al. 2016 section 4.2: 6n+2 layers, 16/32/64 filters, option-A shortcuts."""
    if (depth - 2) % 6: raise SystemExit(f'--model resnet{depth}: the depth must be 6n+2 (20, 32, 44, 56, 110)')
    n = (depth - 2) // 6
    layers, c = conv_bn_relu(in_channels, 16), 16
    for cout, stride in [(16, 1), (32, 2), (64, 2)]:
        for i in range(n):
            layers.append(Block(c, cout, stride if i == 0 else 1, shortcut='A'))
            c = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, classes))


def build_model(args, in_channels, classes, size):
    if args.model == 'vgg-small-bn':
        widths = tuple(int(v) for v in args.widths.split(','))
        model = vgg_small_bn(in_channels, classes, size, widths, args.hidden, args.dropout)
    elif args.model.startswith('resnet') and args.model[6:].isdigit():
        model = cifar_resnet(int(args.model[6:]), in_channels, classes)
    else:
        raise SystemExit(f"unknown --model '{args.model}'; choose vgg-small-bn or resnet20/32/56")
    convkit_init(model)
    return model


def convkit_init(model):
    """convkit's initialisation, not PyTorch's kaiming_uniform(a=sqrt 5): He-normal weights
    (std sqrt(2 / fan_in)) for every Conv2d and Linear, zero biases, batch norm 1 / 0."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, mode='fan_in', nonlinearity='relu')
            if m.bias is not None: nn.init.zeros_(m.bias)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            nn.init.ones_(m.weight); nn.init.zeros_(m.bias)


def param_count(model):
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------- schedule and EMA

def lr_at(args, epoch, step, steps_per_epoch):
    """The learning rate of step `step` (from 0) of epoch `epoch` (from 0).
    Warm-up: linear per step over the first `warmup` epochs, lr * (k + 1) / K for the k-th of its K steps.
    Then `cosine`: per epoch, lr * (1 + cos(pi * e / T)) / 2 for e = 0..T-1, T = epochs - warmup
    (CosineAnnealingLR with tMax T, stepped once per epoch); `none`: constant."""
    if epoch < args.warmup:
        k, total = epoch * steps_per_epoch + step, args.warmup * steps_per_epoch
        return args.lr * (k + 1) / total
    if args.schedule == 'none': return args.lr
    e, t = epoch - args.warmup, args.epochs - args.warmup
    return args.lr * (1 + math.cos(math.pi * e / t)) / 2


class EMA:
    """Exponential moving average of the weights and the batch-norm running statistics:
    ema = d * ema + (1 - d) * w after every optimizer step; evaluation runs on the copy."""
    def __init__(self, model, decay):
        self.decay = decay
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters(): p.requires_grad_(False)
        self.pairs = [(e, w) for e, w in zip(self.tensors(self.model), self.tensors(model))]
        self.ema_float = [e for e, w in self.pairs if e.is_floating_point()]
        self.src_float = [w for e, w in self.pairs if e.is_floating_point()]

    @staticmethod
    def tensors(model):
        return list(model.parameters()) + list(model.buffers())

    @torch.no_grad()
    def update(self):
        torch._foreach_mul_(self.ema_float, self.decay)
        torch._foreach_add_(self.ema_float, self.src_float, alpha=1 - self.decay)
        for e, w in self.pairs:  # num_batches_tracked: copied
            if not e.is_floating_point(): e.copy_(w)


# ---------------------------------------------------------------- training

def arguments(recipe, argv=None):
    r = RECIPES[recipe]
    p = argparse.ArgumentParser(description=f'PyTorch twin of `convkit train --recipe {recipe}` (defaults = the recipe)')
    p.add_argument('--recipe', default=recipe, choices=sorted(RECIPES))
    p.add_argument('--data', default=r['data'], choices=sorted(DATA_DIRS))
    p.add_argument('--model', default=r['model'], help='vgg-small-bn | resnet20 | resnet32 | resnet56')
    p.add_argument('--widths', default='32,64', help='vgg-small-bn: channels of each CONV-CONV-POOL stage')
    p.add_argument('--hidden', type=int, default=256, help='vgg-small-bn: width of the hidden FC layer')
    p.add_argument('--dropout', type=float, default=0.3, help='vgg-small-bn: dropout before the last FC layer')
    p.add_argument('--epochs', type=int, default=r['epochs'])
    p.add_argument('--batch-size', type=int, default=r['batch_size'])
    p.add_argument('--lr', type=float, default=r['lr'])
    p.add_argument('--momentum', type=float, default=r['momentum'])
    p.add_argument('--nesterov', action=argparse.BooleanOptionalAction, default=r['nesterov'])
    p.add_argument('--weight-decay', type=float, default=r['weight_decay'])
    p.add_argument('--warmup', type=int, default=r['warmup'], help='epochs of linear per-step warm-up')
    p.add_argument('--schedule', default=r['schedule'], choices=['cosine', 'none'])
    p.add_argument('--augment', default=r['augment'], choices=['none', 'standard', 'strong'])
    p.add_argument('--hflip', action=argparse.BooleanOptionalAction, default=r['hflip'], help='horizontal flips in standard/strong')
    p.add_argument('--crop-padding', type=int, default=r['crop_padding'])
    p.add_argument('--label-smoothing', type=float, default=r['label_smoothing'])
    p.add_argument('--ema', type=float, default=r['ema'], help='EMA decay of the weights used for evaluation; 0 = off')
    p.add_argument('--val-fraction', type=float, default=r['val_fraction'])
    p.add_argument('--normalize', default=r['normalize'], choices=['channel', 'none'])
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--train-size', type=int, default=None, help='train on this many images (smoke runs)')
    p.add_argument('--test-size', type=int, default=None, help='test on this many images (smoke runs)')
    args = p.parse_args(argv)
    if args.epochs < 1 or args.warmup < 0 or args.batch_size < 1: p.error('--epochs and --batch-size must be >= 1, --warmup >= 0')
    return args


@torch.no_grad()
def evaluate(model, loader, mean, std, label_smoothing=0.0):
    """Mean loss and accuracy; convkit's validation loss is smoothed as its training loss, the test loss is plain."""
    model.eval()
    loss = correct = count = 0
    for x, y in loader:
        out = model(standardize(to_unit(x), mean, std))
        loss += F.cross_entropy(out, y, reduction='sum', label_smoothing=label_smoothing).item()
        correct += (out.argmax(1) == y).sum().item()
        count += len(y)
    return loss / max(count, 1), correct / max(count, 1)


def to_unit(x):
    return x.float().div_(255.0)


def standardize(x, mean, std):
    """--normalize channel: (x - mean) / std per channel; none: x unchanged."""
    if mean is None: return x
    return (x - mean[None, :, None, None]) / std[None, :, None, None]


def run(recipe, t0, argv=None):
    """Trains, prints one line per epoch and a final JSON line; t0 = time.perf_counter() at process start."""
    args = arguments(recipe, argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)  # subsets, split, shuffling and augmentation

    xtr, ytr = load_split(args.data, 'train')
    xte, yte = load_split(args.data, 'test')
    xtr, ytr = subset(xtr, ytr, args.train_size, gen)
    xte, yte = subset(xte, yte, args.test_size, gen)
    n_val = js_round(len(xtr) * args.val_fraction)
    perm = torch.randperm(len(xtr), generator=gen)
    tr, va = perm[:len(xtr) - n_val], perm[len(xtr) - n_val:]
    xva, yva = xtr[va], ytr[va]
    xtr, ytr = xtr[tr], ytr[tr]
    mean, std = channel_stats(xtr) if args.normalize == 'channel' else (None, None)

    train_set = TensorDataset(xtr, ytr)
    # One indexing operation per batch (batch_size=None + a BatchSampler); last batch kept, as convkit.
    train_loader = DataLoader(train_set, sampler=BatchSampler(RandomSampler(train_set, generator=gen), args.batch_size, False),
                              batch_size=None)
    def eval_loader(x, y):
        ds = TensorDataset(x, y)
        return DataLoader(ds, sampler=BatchSampler(SequentialSampler(ds), 256, False), batch_size=None)
    val_loader = eval_loader(xva, yva) if n_val > 0 else None
    test_loader = eval_loader(xte, yte)

    classes = int(max(ytr.max(), yte.max())) + 1
    model = build_model(args, xtr.shape[1], classes, xtr.shape[2])
    # Weight decay on every parameter, as convkit's --weight-decay (no exclusion of BN / biases).
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, nesterov=args.nesterov,
                          weight_decay=args.weight_decay)
    ema = EMA(model, args.ema) if args.ema > 0 else None
    criterion = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    steps = len(train_loader)
    print(f'twin {args.recipe}: {args.model} ({param_count(model)} parameters) on {args.data} '
          f'({len(xtr)} train, {n_val} validation, {len(xte)} test), {args.epochs} epochs, batch {args.batch_size}, '
          f'SGD lr {args.lr} momentum {args.momentum}{" nesterov" if args.nesterov else ""} wd {args.weight_decay}, '
          f'warmup {args.warmup} + {args.schedule}, augment {args.augment}{" +hflip" if args.hflip and args.augment != "none" else ""}, '
          f'label smoothing {args.label_smoothing}, ema {args.ema or "off"}, '
          f'mean {None if mean is None else [round(v, 4) for v in mean.tolist()]} std {None if std is None else [round(v, 4) for v in std.tolist()]}, '
          f'seed {args.seed}, {torch.get_num_threads()} threads', flush=True)

    for epoch in range(args.epochs):
        model.train()
        tl = tc = tn = 0
        lr = args.lr
        for step, (x, y) in enumerate(train_loader):
            lr = lr_at(args, epoch, step, steps)
            for g in opt.param_groups: g['lr'] = lr
            x = standardize(augment(to_unit(x), args, gen), mean, std)
            out = model(x)
            loss = criterion(out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if ema: ema.update()
            tl += loss.item() * len(y); tc += (out.argmax(1) == y).sum().item(); tn += len(y)
        line = f'epoch {epoch + 1}/{args.epochs} lr {lr:.5f} train_loss {tl / tn:.4f} train_acc {tc / tn:.4f}'
        if val_loader:
            vl, vacc = evaluate(ema.model if ema else model, val_loader, mean, std, args.label_smoothing)
            line += f' val_loss {vl:.4f} val_acc {vacc:.4f}'
        print(f'{line} elapsed_s {time.perf_counter() - t0:.1f}', flush=True)

    test_loss, test_acc = evaluate(ema.model if ema else model, test_loader, mean, std)
    wall = time.perf_counter() - t0
    print(f'test accuracy {test_acc * 100:.2f}% loss {test_loss:.4f} on {len(xte)} images', flush=True)
    print(json.dumps({'recipe': args.recipe, 'testAccuracy': test_acc, 'wallSeconds': round(wall, 2), 'seed': args.seed,
                      'epochs': args.epochs, 'threads': args.threads, 'model': args.model, 'params': param_count(model),
                      'testLoss': test_loss, 'testCount': len(xte)}), flush=True)
