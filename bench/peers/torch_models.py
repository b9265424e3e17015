"""The workloads of bench/workloads.json in PyTorch: the same architectures as bench/models.ts
(convkit), layer for layer, so that both sides count the same parameters.

  python3 torch_models.py params [OUT.json]        parameter and multiply-add counts, as JSON (bench/peers/params.json)
  python3 torch_models.py export DIR [--only a,b]  ONNX files DIR/NAME.onnx for onnxruntime (eval mode,
                                                   batch dimension dynamic); skipped where DIR already
                                                   holds them from this same file (DIR/stamp)
Weights are random (fixed seed): the benchmark times arithmetic, not accuracy.
"""
import hashlib, json, os, sys, warnings
import torch, torch.nn as nn, torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = json.load(open(os.path.join(HERE, "..", "workloads.json")))["workloads"]


def conv_bn_relu(cin, cout, k=3, stride=1, padding=1, groups=1):
    return [nn.Conv2d(cin, cout, k, stride, padding, groups=groups, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


def conv3x3_64x56():
    return nn.Sequential(nn.Conv2d(64, 64, 3, padding=1))


def dilated3x3_64x56():
    return nn.Sequential(nn.Conv2d(64, 64, 3, padding=2, dilation=2))


def convT4x4_64x28():
    return nn.Sequential(nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1))


def classifier(features, hidden, classes):
    return [nn.Flatten(), nn.Linear(features, hidden), nn.ReLU(), nn.Dropout(), nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Dropout(), nn.Linear(hidden, classes)]


def vgg16():
    layers, c = [], 3
    for v in [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M']:
        if v == 'M': layers.append(nn.MaxPool2d(2))
        else: layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU()]; c = v
    # As convkit's bench/models.ts: no dropout between the FC layers (inference only).
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(7 * 7 * 512, 4096), nn.ReLU(),
                         nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000))


class Block(nn.Module):
    """ResNet basic block; shortcut 'B' (1x1 CONV + BN where the shape changes) or 'A' (CIFAR:
    subsample and pad the channels with zeros, no parameters)."""
    def __init__(s, cin, cout, stride, shortcut='B'):
        super().__init__()
        s.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); s.b1 = nn.BatchNorm2d(cout)
        s.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); s.b2 = nn.BatchNorm2d(cout)
        s.pad = 0; s.sc = None
        if stride != 1 or cin != cout:
            if shortcut == 'A': s.pad = (cout - cin) // 2
            else: s.sc = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        s.stride = stride
    def forward(s, x):
        y = s.b2(s.c2(torch.relu(s.b1(s.c1(x)))))
        if s.sc is not None: x = s.sc(x)
        elif s.pad or s.stride != 1: x = F.pad(x[:, :, ::s.stride, ::s.stride], (0, 0, 0, 0, s.pad, s.pad))
        return torch.relu(y + x)


def resnet18(classes=1000):
    L = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    c = 64
    for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
        L += [Block(c, cout, stride), Block(cout, cout, 1)]; c = cout
    return nn.Sequential(*L, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes))


def resnet20():
    """The twin of convkit's zoo resnet20() (src/models/cifar-resnet.ts): same layers, option A shortcuts and counts."""
    L = conv_bn_relu(3, 16)
    c = 16
    for cout, stride in [(16, 1), (32, 2), (64, 2)]:
        for i in range(3):
            L.append(Block(c, cout, stride if i == 0 else 1, shortcut='A')); c = cout
    return nn.Sequential(*L, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


class Bottleneck(nn.Module):
    def __init__(s, cin, planes, stride):
        super().__init__()
        out = planes * 4
        s.c1 = nn.Conv2d(cin, planes, 1, bias=False); s.b1 = nn.BatchNorm2d(planes)
        s.c2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False); s.b2 = nn.BatchNorm2d(planes)
        s.c3 = nn.Conv2d(planes, out, 1, bias=False); s.b3 = nn.BatchNorm2d(out)
        s.sc = None if stride == 1 and cin == out else nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))
    def forward(s, x):
        y = torch.relu(s.b1(s.c1(x))); y = torch.relu(s.b2(s.c2(y))); y = s.b3(s.c3(y))
        return torch.relu(y + (x if s.sc is None else s.sc(x)))


def resnet50():
    L = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    c = 64
    for i, (planes, n) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)]):
        for j in range(n):
            L.append(Bottleneck(c, planes, 2 if i > 0 and j == 0 else 1)); c = planes * 4
    return nn.Sequential(*L, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000))


class BasicConv2d(nn.Sequential):
    def __init__(s, cin, cout, k, **kw):
        super().__init__(nn.Conv2d(cin, cout, k, bias=False, **kw), nn.BatchNorm2d(cout, eps=0.001), nn.ReLU())


class Inception(nn.Module):
    def __init__(s, cin, c1, c3r, c3, c5r, c5, pp):
        super().__init__()
        s.b1 = BasicConv2d(cin, c1, 1)
        s.b2 = nn.Sequential(BasicConv2d(cin, c3r, 1), BasicConv2d(c3r, c3, 3, padding=1))
        s.b3 = nn.Sequential(BasicConv2d(cin, c5r, 1), BasicConv2d(c5r, c5, 3, padding=1))  # torchvision's 3x3
        s.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), BasicConv2d(cin, pp, 1))
    def forward(s, x):
        return torch.cat([s.b1(x), s.b2(x), s.b3(x), s.b4(x)], 1)


def googlenet():
    """torchvision's GoogLeNet without the auxiliary classifiers (convkit's zoo googlenet())."""
    L = [BasicConv2d(3, 64, 7, stride=2, padding=3), nn.MaxPool2d(3, 2, ceil_mode=True), BasicConv2d(64, 64, 1),
         BasicConv2d(64, 192, 3, padding=1), nn.MaxPool2d(3, 2, ceil_mode=True)]
    c = 192
    for name, *sizes in [('3a', 64, 96, 128, 16, 32, 32), ('3b', 128, 128, 192, 32, 96, 64), ('4a', 192, 96, 208, 16, 48, 64),
                         ('4b', 160, 112, 224, 24, 64, 64), ('4c', 128, 128, 256, 24, 64, 64), ('4d', 112, 144, 288, 32, 64, 64),
                         ('4e', 256, 160, 320, 32, 128, 128), ('5a', 256, 160, 320, 32, 128, 128), ('5b', 384, 192, 384, 48, 128, 128)]:
        L.append(Inception(c, *sizes)); c = sizes[0] + sizes[2] + sizes[4] + sizes[5]
        if name == '3b': L.append(nn.MaxPool2d(3, 2, ceil_mode=True))
        if name == '4e': L.append(nn.MaxPool2d(2, 2, ceil_mode=True))
    return nn.Sequential(*L, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(c, 1000))


def lrn():
    return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)


def alexnet():
    """convkit's zoo alexnet(): one tower on 227x227x3, LRN after the first two pools."""
    return nn.Sequential(nn.Conv2d(3, 96, 11, 4), nn.ReLU(), nn.MaxPool2d(3, 2), lrn(),
                         nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2), lrn(),
                         nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(), nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2), *classifier(256 * 6 * 6, 4096, 1000))


def zfnet():
    """convkit's zoo zfnet(): CONV7-96/2, CONV5-256/2 pad 1, CONV3-512/1024/512, LRN after the first two pools."""
    return nn.Sequential(nn.Conv2d(3, 96, 7, 2), nn.ReLU(), nn.MaxPool2d(3, 2), lrn(),
                         nn.Conv2d(96, 256, 5, 2, 1), nn.ReLU(), nn.MaxPool2d(3, 2), lrn(),
                         nn.Conv2d(256, 512, 3, padding=1), nn.ReLU(), nn.Conv2d(512, 1024, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(1024, 512, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2), *classifier(512 * 6 * 6, 4096, 1000))


MOBILENET_BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (256, 1), (256, 1), (256, 1)]


def mobilenet_56():
    L, c = conv_bn_relu(3, 32), 32
    for cout, stride in MOBILENET_BLOCKS:
        L += conv_bn_relu(c, c, 3, stride, 1, groups=c) + conv_bn_relu(c, cout, 1, 1, 0); c = cout
    return nn.Sequential(*L, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 1000))


def lenet5():
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def cifar_demo():
    return nn.Sequential(nn.Conv2d(3, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 20, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(20, 20, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(320, 10))


def bn_convnet():
    L, c = [], 1
    for _ in range(2):
        L += conv_bn_relu(c, 32) + conv_bn_relu(32, 32) + [nn.MaxPool2d(2)]; c = 32
    return nn.Sequential(*L, nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Dropout(), nn.Linear(128, 10))


def vgg_bn_cifar():
    L, c = [], 3
    for v in (64, 128, 256):
        L += conv_bn_relu(c, v) + conv_bn_relu(v, v) + [nn.MaxPool2d(2)]; c = v
    return nn.Sequential(*L, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))


BUILDERS = {
    'conv3x3_64x56': conv3x3_64x56, 'vgg16': vgg16, 'resnet18': resnet18, 'lenet5': lenet5, 'cifar_demo': cifar_demo,
    'bn_convnet': bn_convnet, 'vgg_bn_cifar': vgg_bn_cifar, 'resnet20': resnet20, 'resnet18_112': resnet18,
    'resnet50': resnet50, 'googlenet': googlenet, 'alexnet': alexnet, 'zfnet': zfnet, 'mobilenet_56': mobilenet_56,
    'dilated3x3_64x56': dilated3x3_64x56, 'convT4x4_64x28': convT4x4_64x28,
}
missing = [w['name'] for w in WORKLOADS if w['name'] not in BUILDERS]
if missing: raise SystemExit(f"torch_models.py has no PyTorch definition for {missing}")


def build(name):
    torch.manual_seed(0)
    return BUILDERS[name]()


def param_count(m):
    return sum(p.numel() for p in m.parameters())


def forward_macs(m, shape):
    """Multiply-adds of one image's forward pass in the CONV and FC layers (convkit's summary
    counts the same), so that a stride or padding that differs shows even where the parameters agree."""
    total = [0]
    def conv(mod, inp, out):
        total[0] += out[0].numel() * (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]
    def conv_t(mod, inp, out):
        total[0] += inp[0][0].numel() * (mod.out_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]
    def linear(mod, inp, out):
        total[0] += mod.in_features * mod.out_features
    hooks = [mod.register_forward_hook(conv if isinstance(mod, nn.Conv2d) else conv_t if isinstance(mod, nn.ConvTranspose2d) else linear)
             for mod in m.modules() if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    with torch.no_grad(): m.eval()(torch.zeros(1, *shape))
    for h in hooks: h.remove()
    return total[0]


def selected(only):
    return [w for w in WORKLOADS if not only or w['name'] in only]


def export(out, only):
    warnings.filterwarnings("ignore")  # the exporter's shape-inference notes, not problems
    os.makedirs(out, exist_ok=True)
    stamp = hashlib.sha256(open(__file__, 'rb').read() + open(os.path.join(HERE, '..', 'workloads.json'), 'rb').read()).hexdigest()[:16]
    stamp_file = os.path.join(out, 'stamp')
    fresh = os.path.exists(stamp_file) and open(stamp_file).read().strip() == stamp
    if not fresh:
        for f in os.listdir(out):
            if f.endswith('.onnx'): os.remove(os.path.join(out, f))
        open(stamp_file, 'w').write(stamp)
    for w in selected(only):
        if not any(kind == 'infer' for kind, _ in w['runs']): continue
        path = os.path.join(out, w['name'] + '.onnx')
        if os.path.exists(path): continue
        m = build(w['name']).eval()
        torch.onnx.export(m, torch.randn(1, *w['input']), path + '.part', opset_version=13, input_names=['x'], output_names=['y'],
                          dynamic_axes={'x': {0: 'n'}, 'y': {0: 'n'}})
        os.replace(path + '.part', path)
        print(f"exported {path}", flush=True)


if __name__ == '__main__':
    args = sys.argv[1:]
    only = None
    if '--only' in args:
        i = args.index('--only'); only = set(args[i + 1].split(',')); del args[i:i + 2]
    if args[:1] == ['params']:
        counts = {}
        for w in selected(only):
            m = build(w['name'])
            counts[w['name']] = {'params': param_count(m), 'macs': forward_macs(m, w['input'])}
        text = json.dumps(counts, indent=1) + '\n'
        if len(args) > 1: open(args[1], 'w').write(text)
        else: sys.stdout.write(text)
    elif args[:1] == ['export'] and len(args) == 2:
        export(args[1], only)
    else:
        raise SystemExit(__doc__)
