# Time-to-accuracy anchor: PyTorch CPU trains LeNet-5 (ReLU, max-pool) on Fashion-MNIST from the Debian
# package dataset-fashion-mnist; prints test accuracy and elapsed seconds after each epoch.
import gzip, sys, time, numpy as np, torch, torch.nn as nn
from torch_models import lenet5
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2); torch.manual_seed(0)
D = "/usr/share/datasets/fashion-mnist/"
def idx(name, off): return np.frombuffer(gzip.open(D + name).read(), np.uint8, offset=off)
xtr = torch.tensor(idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28) / 255.0, dtype=torch.float32)
ytr = torch.tensor(idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64))
xte = torch.tensor(idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28) / 255.0, dtype=torch.float32)
yte = torch.tensor(idx("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64))
mean, std = xtr.mean(), xtr.std(); xtr = (xtr - mean) / std; xte = (xte - mean) / std
m = lenet5(); opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9); lossf = nn.CrossEntropyLoss()
t0 = time.perf_counter()
for ep in range(int(sys.argv[2]) if len(sys.argv) > 2 else 5):
    m.train(); perm = torch.randperm(len(xtr))
    for i in range(0, len(xtr), 64):
        b = perm[i:i+64]; opt.zero_grad(); lossf(m(xtr[b]), ytr[b]).backward(); opt.step()
    m.eval()
    with torch.no_grad(): acc = (m(xte).argmax(1) == yte).float().mean().item()
    print(f"epoch {ep+1} test_acc={acc:.4f} elapsed_s={time.perf_counter()-t0:.1f}", flush=True)
