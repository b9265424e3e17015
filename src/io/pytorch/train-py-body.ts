/**
 * The body of the generated train.py: data readers for the folders convkit reads, the recorded
 * preprocessing, convkit's optimizers and schedules, and the DistributedDataParallel loop.
 * train-code.ts puts the docstring and the SETTINGS taken from the model or checkpoint in front.
 */

/** Imports, up to where SETTINGS goes. */
export const TRAIN_IMPORTS = `import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, Subset, TensorDataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import INPUT_SHAPE, build_model, convkit_state_dict, load_weights, write_safetensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
`;

/** Everything after SETTINGS. */
export const TRAIN_BODY = `

# ---------------------------------------------------------------------------------------------
# Data: the folders convkit reads (IDX files, CIFAR-10 binary batches, one sub-folder of images
# per class), as [N, C, H, W] float tensors in [0, 1] with int64 labels.
# ---------------------------------------------------------------------------------------------

def _open(path):
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def _find(folder, names):
    for name in names:
        for candidate in (name + ".gz", name):
            if os.path.isfile(os.path.join(folder, candidate)):
                return os.path.join(folder, candidate)
    return None


def read_idx(path):
    """An IDX file (MNIST's format) as a uint8 tensor."""
    with _open(path) as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise SystemExit(f"{path}: not an IDX file of unsigned bytes")
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(shape)


def load_idx_folder(folder, split):
    prefixes = ["train"] if split == "train" else ["t10k", "test"]
    images = _find(folder, [f"{p}-images{s}idx3-ubyte" for p in prefixes for s in ("-", ".")])
    labels = _find(folder, [f"{p}-labels{s}idx1-ubyte" for p in prefixes for s in ("-", ".")])
    if not images or not labels:
        return None
    x = read_idx(images).float().div_(255.0)
    x = x.unsqueeze(1) if x.dim() == 3 else x
    return TensorDataset(x, read_idx(labels).long()), None


def load_cifar_folder(folder, split):
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] if split == "train" else ["test_batch.bin"]
    paths = [os.path.join(folder, n) for n in names]
    if not all(os.path.isfile(p) for p in paths):
        return None
    raw = torch.cat([torch.frombuffer(bytearray(open(p, "rb").read()), dtype=torch.uint8).reshape(-1, 3073) for p in paths])
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    return TensorDataset(raw[:, 1:].reshape(-1, 3, 32, 32).float().div_(255.0), raw[:, 0].long()), classes


IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".avif")


class ImageFiles(torch.utils.data.Dataset):
    """Images decoded one at a time (a folder may not fit in memory): center-cropped to the model's
    aspect, resized (bilinear) and rounded to 8 bits, as convkit's image folders are."""

    def __init__(self, files, labels, shape):
        self.files, self.labels, self.shape = files, labels, shape

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        from PIL import Image
        c, h, w = self.shape
        img = Image.open(self.files[i]).convert("L" if c == 1 else "RGB")
        side_w, side_h = img.size
        scale = min(side_w / w, side_h / h)
        cw, ch = round(w * scale), round(h * scale)
        left, top = (side_w - cw) // 2, (side_h - ch) // 2
        img = img.crop((left, top, left + cw, top + ch)).resize((w, h), Image.BILINEAR)
        t = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).reshape(h, w, c).permute(2, 0, 1)
        return t.float().div_(255.0), self.labels[i]


def load_image_folder(folder, split, shape, test_fraction=0.2):
    """One sub-folder per class: folder/train and folder/test (or val), else a holdout of each class
    as convkit makes it (the r-th file of a class is a test image when floor((r+1)f) > floor(rf))."""

    def classes_of(root):
        return sorted(d for d in os.listdir(root) if not d.startswith(".") and os.path.isdir(os.path.join(root, d)))

    sub = [os.path.join(folder, s) for s in (["train"] if split == "train" else ["test", "val"])]
    root = next((s for s in sub if os.path.isdir(s) and classes_of(s)), None)
    holdout = root is None
    root = folder if holdout else root
    classes = classes_of(root)
    if not classes:
        return None
    files, labels = [], []
    for label, name in enumerate(classes):
        found = []
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, name)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            found += sorted(os.path.join(dirpath, f) for f in filenames if not f.startswith(".") and f.lower().endswith(IMAGE_EXTENSIONS))
        for rank, path in enumerate(found):
            if holdout and (math.floor((rank + 1) * test_fraction) > math.floor(rank * test_fraction)) != (split == "test"):
                continue
            files.append(path)
            labels.append(label)
    return ImageFiles(files, labels, shape), classes


def load_split(data, split):
    """(dataset of (image [C, H, W] in [0, 1], label), class names or None)."""
    if not os.path.isdir(data):
        raise SystemExit(f"--data {data}: no such folder; give a folder of IDX files, CIFAR-10 batches or class sub-folders")
    found = load_idx_folder(data, split) or load_cifar_folder(data, split)
    if found is None and INPUT_SHAPE is not None:
        found = load_image_folder(data, split, INPUT_SHAPE)
    if found is None:
        raise SystemExit(f"{data}: no {split} data found (IDX files, CIFAR-10 batches or one sub-folder of images per class)")
    return found


# ---------------------------------------------------------------------------------------------
# Preprocessing: what convkit did to every image before the model saw it (recorded with the model).
# ---------------------------------------------------------------------------------------------

LUMA = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)


def prepare(x):
    """Channels and size as the model takes them, 8-bit rounding, then the recorded normalization."""
    if INPUT_SHAPE is None or len(INPUT_SHAPE) != 3:
        return normalize(x)
    c, h, w = INPUT_SHAPE
    if x.shape[1] == 3 and c == 1:
        x = (x * LUMA).sum(1, keepdim=True)
    elif x.shape[1] == 1 and c == 3:
        x = x.repeat(1, 3, 1, 1)
    if tuple(x.shape[-2:]) != (h, w):
        x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
        if SETTINGS["quantize"]:
            x = x.clamp(0, 1).mul(255).round().div(255)
    return normalize(x)


def normalize(x):
    n = SETTINGS["normalization"]
    if n is None:
        return x
    if n["kind"] == "rescale":
        lo, hi = n["range"]
        return lo + x * (hi - lo)
    shape = (1, -1, 1, 1) if n["per"] == "channel" else (1, *x.shape[1:])
    mean = torch.tensor(n["mean"], dtype=x.dtype).view(shape)
    std = torch.tensor(n["std"], dtype=x.dtype).view(shape) if n.get("std") else torch.ones_like(mean)
    std = torch.where(std > 1e-8, std, torch.ones_like(std))  # a channel that never varied: subtract only
    return (x - mean) / std


def augment(x):
    """Random augmentation of a training batch. convkit records none for this model; add yours here,
    e.g. x = torch.where(torch.rand(x.shape[0], 1, 1, 1) < 0.5, x.flip(-1), x) for horizontal flips."""
    return x


# ---------------------------------------------------------------------------------------------
# Optimizer and schedule: convkit's names and defaults.
# ---------------------------------------------------------------------------------------------

def _or(value, default):
    return default if value is None else value


def make_optimizer(name, params, lr, momentum, weight_decay):
    if name in ("sgd", "momentum", "nesterov"):
        m = momentum if momentum is not None else (0.0 if name == "sgd" else 0.9)
        return torch.optim.SGD(params, lr=_or(lr, 0.01), momentum=m, nesterov=name == "nesterov", weight_decay=weight_decay)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=_or(lr, 0.01), weight_decay=weight_decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=_or(lr, 0.001), alpha=0.99, eps=1e-8, momentum=_or(momentum, 0.0), weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=_or(lr, 0.001), weight_decay=weight_decay)
    if name == "adamw":  # decoupled decay: w *= 1 - lr * wd each step
        return torch.optim.AdamW(params, lr=_or(lr, 0.001), weight_decay=weight_decay)
    raise SystemExit(f"unknown optimizer {name!r}; choose sgd, momentum, nesterov, adagrad, rmsprop, adam or adamw")


def make_scheduler(name, optimizer, epochs):
    """Per epoch: 'step' divides the rate by 10 after each third of training, 'cosine' anneals to 0."""
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, math.ceil(epochs / 3)), gamma=0.1)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    if name == "none":
        return None
    raise SystemExit(f"unknown schedule {name!r}; choose none, step or cosine")


# ---------------------------------------------------------------------------------------------
# Training, one process per device under torchrun (DistributedDataParallel), or one process alone.
# ---------------------------------------------------------------------------------------------

def parse_args():
    s = SETTINGS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=s["data"], help="folder of IDX files, CIFAR-10 batches or class sub-folders (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=s["epochs"])
    p.add_argument("--batch-size", type=int, default=s["batch_size"], help="global batch, split across the processes (default: %(default)s)")
    p.add_argument("--optimizer", default=s["optimizer"])
    p.add_argument("--lr", type=float, default=s["lr"])
    p.add_argument("--momentum", type=float, default=s["momentum"])
    p.add_argument("--weight-decay", type=float, default=s["weight_decay"])
    p.add_argument("--schedule", default=s["schedule"], choices=["none", "step", "cosine"])
    p.add_argument("--val-fraction", type=float, default=s["val_fraction"])
    p.add_argument("--train-size", type=int, default=s["train_size"], help="train on a seeded random subset of this many images")
    p.add_argument("--test-size", type=int, default=None, help="evaluate on the first N test images")
    p.add_argument("--seed", type=int, default=s["seed"])
    p.add_argument("--weights", default=os.path.join(HERE, "weights.safetensors"), help="starting weights ('' for fresh ones)")
    p.add_argument("--out", default=os.path.join(HERE, "runs"), help="folder for checkpoint.pt and trained.safetensors")
    p.add_argument("--resume", action="store_true", help="continue from <out>/checkpoint.pt")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes per rank")
    p.add_argument("--check-sync", action="store_true", help="after every step, check that all processes hold the same weights")
    return p.parse_args()


def setup():
    """(rank, world size, device): torchrun sets RANK/WORLD_SIZE/LOCAL_RANK; NCCL on GPUs, gloo on CPUs."""
    if "RANK" not in os.environ:
        return 0, 1, torch.device("cuda" if torch.cuda.is_available() else "cpu")
    gpu = torch.cuda.is_available()
    dist.init_process_group("nccl" if gpu else "gloo")
    local = int(os.environ.get("LOCAL_RANK", 0))
    if gpu:
        torch.cuda.set_device(local)
    return dist.get_rank(), dist.get_world_size(), torch.device(f"cuda:{local}" if gpu else "cpu")


def log(rank, **event):
    if rank == 0:
        print(json.dumps(event), flush=True)


def weights_checksum(model):
    return torch.stack([p.detach().double().sum() for p in model.parameters()] +
                       [p.detach().double().pow(2).sum() for p in model.parameters()])


def evaluate(model, loader, device, world):
    """(loss sum, correct, count), summed over every process."""
    if world > 1:  # batch-norm statistics as rank 0 has them (each process updated its own last)
        for b in model.buffers():
            dist.broadcast(b, 0)
    model.eval()
    totals = torch.zeros(3, dtype=torch.float64, device=device)
    with torch.no_grad():
        for x, y in loader:
            x, y = prepare(x.to(device)), y.to(device)
            out = model(x)
            totals += torch.tensor([F.cross_entropy(out, y, reduction="sum").item(), (out.argmax(1) == y).sum().item(), len(y)],
                                   dtype=torch.float64, device=device)
    if world > 1:
        dist.all_reduce(totals)
    return totals.tolist()


def main():
    args = parse_args()
    rank, world, device = setup()
    torch.manual_seed(args.seed)
    if not args.data:
        raise SystemExit("give the training data with --data (a folder of IDX files, CIFAR-10 batches or class sub-folders)")
    data = args.data if os.path.isabs(args.data) or os.path.isdir(args.data) else os.path.join(HERE, args.data)
    full, _ = load_split(data, "train")
    test_set, _ = load_split(data, "test")
    g = torch.Generator().manual_seed(args.seed)
    indices = torch.randperm(len(full), generator=g)
    if args.train_size and args.train_size < len(full):
        indices = indices[:args.train_size]
    if args.test_size and args.test_size < len(test_set):
        test_set = Subset(test_set, range(args.test_size))
    n_val = round(len(indices) * args.val_fraction)
    train_set = Subset(full, indices[n_val:].tolist())
    val_set = Subset(full, indices[:n_val].tolist())
    if args.batch_size % world:
        raise SystemExit(f"--batch-size {args.batch_size} does not split evenly over {world} processes")
    # Every process sees a different share of each epoch; the shuffle depends on the seed and epoch only.
    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    train = DataLoader(train_set, batch_size=args.batch_size // world, sampler=sampler, num_workers=args.workers)
    # Evaluation: each process takes every world-th item (no padding, so every item counts once).
    shard = lambda ds: DataLoader(Subset(ds, range(rank, len(ds), world)), batch_size=256, num_workers=args.workers)
    val = shard(val_set) if n_val else None
    test = shard(test_set)

    model = build_model()
    if args.weights:
        load_weights(model, args.weights)
    model.to(device)
    ddp = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) if world > 1 else model
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr, args.momentum, args.weight_decay)
    scheduler = make_scheduler(args.schedule, optimizer, args.epochs)
    start = 0
    checkpoint = os.path.join(args.out, "checkpoint.pt")
    if args.resume:
        state = torch.load(checkpoint, map_location=device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler and state.get("scheduler"):
            scheduler.load_state_dict(state["scheduler"])
        start = state["epoch"]
        log(rank, event="resumed", epoch=start, checkpoint=checkpoint)
    if rank == 0:
        os.makedirs(args.out, exist_ok=True)
    log(rank, event="start", processes=world, device=str(device), train=len(train_set), validation=n_val, test=len(test_set),
        epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer, schedule=args.schedule)

    steps_checked = 0
    for epoch in range(start, args.epochs):
        ddp.train()
        sampler.set_epoch(epoch)
        began, seen, loss_sum = time.time(), 0, 0.0
        for xb, yb in train:
            xb, yb = augment(prepare(xb.to(device))), yb.to(device)
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(ddp(xb), yb)
            loss.backward()  # DDP averages the gradients over the processes here
            optimizer.step()
            seen += len(yb)
            loss_sum += loss.item() * len(yb)
            if args.check_sync and world > 1:
                mine = weights_checksum(model)
                every = [torch.zeros_like(mine) for _ in range(world)]
                dist.all_gather(every, mine)
                if any(not torch.equal(every[0], other) for other in every[1:]):
                    raise SystemExit(f"rank {rank}: the processes' weights differ after step {steps_checked + 1}")
                steps_checked += 1
        if scheduler:
            scheduler.step()
        if world > 1:  # the loss over every process's share of the epoch
            totals = torch.tensor([loss_sum, seen], dtype=torch.float64, device=device)
            dist.all_reduce(totals)
            loss_sum, seen = totals.tolist()
        record = dict(event="epoch", epoch=epoch + 1, train_loss=loss_sum / max(seen, 1), seconds=round(time.time() - began, 2))
        if val:
            vl, vc, vn = evaluate(model, val, device, world)
            record.update(val_loss=vl / vn, val_accuracy=vc / vn)
        log(rank, **record)
        if rank == 0:  # one process writes; the others hold the same weights
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict() if scheduler else None, "epoch": epoch + 1, "args": vars(args)}, checkpoint)

    tl, tc, tn = evaluate(model, test, device, world)
    trained = os.path.join(args.out, "trained.safetensors")
    if rank == 0:
        write_safetensors(trained, convkit_state_dict(model), {"testAccuracy": tc / tn, "testCount": int(tn), "epochs": args.epochs})
    done = dict(event="done", test_loss=tl / tn, test_accuracy=tc / tn, test_count=int(tn), weights=trained)
    if args.check_sync and world > 1:
        done["steps_checked"] = steps_checked
    log(rank, **done)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
`;
