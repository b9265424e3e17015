"""Reference parameter counts for convkit's zoo, from the same architectures built in plain PyTorch.

convkit's zoo tests (test/models/zoo.test.ts) pin these numbers. torchvision is not needed:
each network is written out here layer by layer, following torchvision's definitions (VGG,
ResNet, GoogLeNet) or the papers (AlexNet single-tower at 227, ZFNet, All-CNN-C), and built
on the 'meta' device so that nothing is allocated. Where torchvision publishes a count, the
script checks it (assert).

    /usr/bin/python3 scripts/models/reference_param_counts.py     # prints JSON
"""
import json

import torch
import torch.nn as nn

META = torch.device('meta')


def count(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def conv(cin, cout, k, **kw):
    return nn.Conv2d(cin, cout, k, device=META, **kw)


def fc(cin, cout):
    return nn.Linear(cin, cout, device=META)


def bn(c, **kw):
    return nn.BatchNorm2d(c, device=META, **kw)


# --- VGG (Simonyan & Zisserman 2014, table 1), torchvision's classifier on 224x224x3 ---
VGG = {
    'vgg11': [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    'vgg11lrn': [64, 'LRN', 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    'vgg13': [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    # configuration C: the third conv of blocks 3-5 is 1x1
    'vgg16c': [64, 64, 'M', 128, 128, 'M', 256, 256, (1, 256), 'M', 512, 512, (1, 512), 'M', 512, 512, (1, 512), 'M'],
    'vgg16': [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
    'vgg19': [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
}


def vgg(cfg):
    layers, c = [], 3
    for v in cfg:
        if v == 'M':
            layers.append(nn.MaxPool2d(2))
        elif v == 'LRN':
            layers.append(nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2))
        else:
            k, out = v if isinstance(v, tuple) else (3, v)
            layers += [conv(c, out, k, padding=(k - 1) // 2), nn.ReLU(inplace=True)]
            c = out
    return nn.Sequential(*layers, nn.Flatten(), fc(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(),
                         fc(4096, 4096), nn.ReLU(True), nn.Dropout(), fc(4096, 1000))


# --- ResNet (He et al. 2015), torchvision's definition ---
class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = conv(cin, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = bn(planes)
        self.conv2 = conv(planes, planes, 3, padding=1, bias=False)
        self.bn2 = bn(planes)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(conv(cin, planes, 1, stride=stride, bias=False), bn(planes))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = conv(cin, planes, 1, bias=False)
        self.bn1 = bn(planes)
        self.conv2 = conv(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = bn(planes)
        self.conv3 = conv(planes, planes * 4, 1, bias=False)
        self.bn3 = bn(planes * 4)
        self.downsample = None
        if stride != 1 or cin != planes * 4:
            self.downsample = nn.Sequential(conv(cin, planes * 4, 1, stride=stride, bias=False), bn(planes * 4))


def resnet(block, layers):
    mods, c = [conv(3, 64, 7, stride=2, padding=3, bias=False), bn(64)], 64
    for i, n in enumerate(layers):
        planes = 64 * 2 ** i
        for j in range(n):
            mods.append(block(c, planes, 2 if (i > 0 and j == 0) else 1))
            c = planes * block.expansion
    mods.append(fc(c, 1000))
    return nn.ModuleList(mods)


# --- GoogLeNet (Szegedy et al. 2014), torchvision's definition without aux classifiers ---
def basic(cin, cout, k, **kw):
    return nn.Sequential(conv(cin, cout, k, bias=False, **kw), bn(cout, eps=0.001))


INCEPTION = [  # in, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj
    (192, 64, 96, 128, 16, 32, 32), (256, 128, 128, 192, 32, 96, 64),
    (480, 192, 96, 208, 16, 48, 64), (512, 160, 112, 224, 24, 64, 64), (512, 128, 128, 256, 24, 64, 64),
    (512, 112, 144, 288, 32, 64, 64), (528, 256, 160, 320, 32, 128, 128),
    (832, 256, 160, 320, 32, 128, 128), (832, 384, 192, 384, 48, 128, 128),
]


def googlenet(five):
    mods = [basic(3, 64, 7, stride=2, padding=3), basic(64, 64, 1), basic(64, 192, 3, padding=1)]
    for cin, c1, r3, c3, r5, c5, pp in INCEPTION:
        # torchvision uses 3x3 in the '5x5' branch (a documented bug kept for its weights)
        k = 5 if five else 3
        mods += [basic(cin, c1, 1), basic(cin, r3, 1), basic(r3, c3, 3, padding=1),
                 basic(cin, r5, 1), basic(r5, c5, k, padding=k // 2), basic(cin, pp, 1)]
    mods.append(fc(1024, 1000))
    return nn.ModuleList(mods)


# --- the rest, from their papers / demos ---
def alexnet():  # single tower, 227x227x3
    return nn.Sequential(conv(3, 96, 11, stride=4), conv(96, 256, 5, padding=2), conv(256, 384, 3, padding=1),
                         conv(384, 384, 3, padding=1), conv(384, 256, 3, padding=1),
                         fc(6 * 6 * 256, 4096), fc(4096, 4096), fc(4096, 1000))


def zfnet():  # 227 -> CONV7/2 111 -> POOL 55 -> CONV5/2 p1 27 -> POOL 13 -> 512, 1024, 512 -> POOL 6
    return nn.Sequential(conv(3, 96, 7, stride=2), conv(96, 256, 5, stride=2, padding=1), conv(256, 512, 3, padding=1),
                         conv(512, 1024, 3, padding=1), conv(1024, 512, 3, padding=1),
                         fc(6 * 6 * 512, 4096), fc(4096, 4096), fc(4096, 1000))


def allconv():  # All-CNN-C (Springenberg et al. 2014) on CIFAR-10
    return nn.Sequential(conv(3, 96, 3), conv(96, 96, 3), conv(96, 96, 3, stride=2), conv(96, 192, 3), conv(192, 192, 3),
                         conv(192, 192, 3, stride=2), conv(192, 192, 3), conv(192, 192, 1), conv(192, 10, 1))


def tiny_vgg():  # CNN Explainer's Tiny VGG on 64x64x3
    return nn.Sequential(conv(3, 10, 3), conv(10, 10, 3), conv(10, 10, 3), conv(10, 10, 3), fc(13 * 13 * 10, 10))


def lenet5():
    return nn.Sequential(conv(1, 6, 5, padding=2), conv(6, 16, 5), fc(400, 120), fc(120, 84), fc(84, 10))


def cifar_demo():
    return nn.Sequential(conv(3, 16, 5, padding=2), conv(16, 20, 5, padding=2), conv(20, 20, 5, padding=2), fc(320, 10))


def cifar_resnet(n, cin=3, classes=10):
    """He et al. 2016, section 4.2: CONV3-16 -> BN, 3 stages of n blocks of two CONV3 -> BN at
    16/32/64 filters; option A shortcuts have no parameters; FC 64 -> classes."""
    layers, c = [conv(cin, 16, 3, padding=1, bias=False), bn(16)], 16
    for w in (16, 32, 64):
        for _ in range(n):
            layers += [conv(c, w, 3, padding=1, bias=False), bn(w), conv(w, w, 3, padding=1, bias=False), bn(w)]
            c = w
    return nn.Sequential(*layers, fc(64, classes))


def vgg_small_bn(cin=1, size=28, classes=10):
    """convkit's vggSmallBn: [CONV3-32 -> BN]*2, POOL2, [CONV3-64 -> BN]*2, POOL2, FC256 -> BN1d, FC."""
    side = size // 2 // 2
    return nn.Sequential(conv(cin, 32, 3, padding=1, bias=False), bn(32), conv(32, 32, 3, padding=1, bias=False), bn(32),
                         conv(32, 64, 3, padding=1, bias=False), bn(64), conv(64, 64, 3, padding=1, bias=False), bn(64),
                         fc(64 * side * side, 256), nn.BatchNorm1d(256, device=META), fc(256, classes))


def main():
    counts = {name: count(vgg(cfg)) for name, cfg in VGG.items()}
    counts.update({
        'resnet18': count(resnet(BasicBlock, [2, 2, 2, 2])),
        'resnet34': count(resnet(BasicBlock, [3, 4, 6, 3])),
        'resnet50': count(resnet(Bottleneck, [3, 4, 6, 3])),
        'googlenet': count(googlenet(False)),
        'googlenet5x5': count(googlenet(True)),
        'alexnet': count(alexnet()),
        'zfnet': count(zfnet()),
        'allconv': count(allconv()),
        'tinyVgg': count(tiny_vgg()),
        'lenet5': count(lenet5()),
        'cifarDemo': count(cifar_demo()),
        'resnet20': count(cifar_resnet(3)),
        'resnet32': count(cifar_resnet(5)),
        'resnet56': count(cifar_resnet(9)),
        'vggSmallBn': count(vgg_small_bn()),
        'vggSmallBn32x32x3': count(vgg_small_bn(3, 32)),
    })
    # Published by torchvision (its model docs list "num_params").
    published = {'vgg11': 132863336, 'vgg13': 133047848, 'vgg16': 138357544, 'vgg19': 143667240,
                 'resnet18': 11689512, 'resnet34': 21797672, 'resnet50': 25557032, 'googlenet': 6624904}
    for k, v in published.items():
        assert counts[k] == v, (k, counts[k], v)
    print(json.dumps({'torch': torch.__version__, 'counts': counts}, indent=2))


if __name__ == '__main__':
    main()
