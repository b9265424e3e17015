#!/usr/bin/env python3
"""PyTorch's half of the torchvision end-to-end check (scripts/torch/check-torchvision.ts):

    /usr/bin/python3 scripts/torch/torchvision_outputs.py <architecture> <out-dir> [batch]

builds the torchvision architecture with seeded random weights (tv_common.build: weights=None,
non-trivial biases and batch-norm statistics, eval mode) and writes to <out-dir>:
  weights.pth          torch.save(model.state_dict())
  weights.safetensors  the same tensors in the safetensors layout
  input.bin            the fixed [batch, 3, 224, 224] input, float32 little-endian
  output.bin           the model's output on it, float32 little-endian
  meta.json            shapes and versions
"""

import json
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tv_common import ARCHITECTURES, build, fixed_input, save_safetensors  # noqa: E402


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ARCHITECTURES:
        sys.exit('usage: torchvision_outputs.py <%s> <out-dir> [batch]' % '|'.join(ARCHITECTURES))
    name, out = sys.argv[1], sys.argv[2]
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model = build(name)
    x = fixed_input(batch)
    with torch.no_grad():
        y = model(x)
    state = model.state_dict()
    torch.save(state, os.path.join(out, 'weights.pth'))
    save_safetensors(state, os.path.join(out, 'weights.safetensors'), {'format': 'pt', 'architecture': name})
    x.numpy().astype('<f4').tofile(os.path.join(out, 'input.bin'))
    y.numpy().astype('<f4').tofile(os.path.join(out, 'output.bin'))
    with open(os.path.join(out, 'meta.json'), 'w') as f:
        json.dump({'architecture': name, 'inputShape': list(x.shape), 'outputShape': list(y.shape),
                   'torchVersion': torch.__version__, 'torchvisionVersion': torchvision.__version__}, f)


if __name__ == '__main__':
    main()
