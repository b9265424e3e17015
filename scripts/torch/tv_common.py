"""Shared by make_torchvision_fixtures.py and torchvision_outputs.py: the torchvision
architectures convkit maps (`model.loadStateDict(dict, { from: 'torchvision' })`), seeded
random weights for them, and a small safetensors writer (Debian has no python3-safetensors).

Runs with Debian's /usr/bin/python3 (torch 1.13, torchvision 0.14); no network: every model is
built with weights=None.
"""

import json
import struct
import warnings

import torch
import torchvision.models as tvm

# torchvision's name -> its constructor (weights=None: random init, nothing downloaded).
# GoogLeNet keeps its auxiliary heads (weights=None builds them, and torchvision's pretrained
# file holds them too), so their keys are in the state dict convkit must drop.
ARCHITECTURES = {
    'alexnet': lambda: tvm.alexnet(weights=None),
    'vgg11': lambda: tvm.vgg11(weights=None),
    'vgg11_bn': lambda: tvm.vgg11_bn(weights=None),
    'vgg13': lambda: tvm.vgg13(weights=None),
    'vgg13_bn': lambda: tvm.vgg13_bn(weights=None),
    'vgg16': lambda: tvm.vgg16(weights=None),
    'vgg16_bn': lambda: tvm.vgg16_bn(weights=None),
    'vgg19': lambda: tvm.vgg19(weights=None),
    'vgg19_bn': lambda: tvm.vgg19_bn(weights=None),
    'googlenet': lambda: tvm.googlenet(weights=None, aux_logits=True, init_weights=True),
    'resnet18': lambda: tvm.resnet18(weights=None),
    'resnet34': lambda: tvm.resnet34(weights=None),
    'resnet50': lambda: tvm.resnet50(weights=None),
}


def build(name, seed=0):
    """The architecture with seeded weights, every bias and batch-norm statistic made non-trivial
    (torchvision zeroes biases and starts BN at mean 0 / var 1, which would hide a mis-mapped
    bias or buffer), in eval mode."""
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = ARCHITECTURES[name]()
    perturb(model, seed)
    return model.eval()


def perturb(model, seed):
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) * 1.5 + 0.5)
                m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=g)))
            elif isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) and m.bias is not None:
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.02)


SAFETENSORS_DTYPES = {torch.float32: 'F32', torch.int64: 'I64', torch.float64: 'F64', torch.float16: 'F16'}


def save_safetensors(state, path, metadata=None):
    """The safetensors layout: u64 little-endian header length, the JSON header (padded with
    spaces to 8 bytes), then each tensor's little-endian bytes in header order."""
    header = {}
    blobs = []
    offset = 0
    for name, t in state.items():
        t = t.detach().contiguous().cpu()
        data = t.numpy().tobytes()
        header[name] = {'dtype': SAFETENSORS_DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header['__metadata__'] = metadata
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def fixed_input(batch=1, size=224, seed=1234):
    """The fixed input: standard normal values, like an ImageNet-normalized picture."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, size, size, generator=g)
