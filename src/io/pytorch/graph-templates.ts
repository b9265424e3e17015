import { BasicConv2d, GoogLeNet, Inception } from '../../models/googlenet.js';
import { BasicBlock, Bottleneck, ResNet } from '../../models/resnet.js';
import { CIFAR_RESNET_WIDTHS, CifarBasicBlock, CifarResNet } from '../../models/cifar-resnet.js';
import type { Module } from '../../nn/module.js';
import type { Sequential } from '../../nn/sequential.js';
import { layerCoderFor } from './layer-code.js';
import { call, kwargs, py, pyList } from './python.js';

/**
 * The zoo's graph modules written as a person would write them in PyTorch (torchvision's
 * style): a class per kind of block with constructor arguments, so ResNet-18 is
 * `ResNet(BasicBlock, [2, 2, 2, 2], num_classes=10)` rather than every block spelled out.
 *
 * A template is used only when the instance is exactly what its arguments build: the module is
 * rebuilt from those arguments and every layer's PyTorch code compared. A model changed after
 * construction (a new head, a swapped layer) fails the comparison and is written out layer by
 * layer instead (graph-code.ts), which is always right.
 */

export interface Template {
  /** The expression that builds the module, e.g. `ResNet(BasicBlock, [2, 2, 2, 2], num_classes=10)`. */
  expr: string;
  /** Class names whose source the expression needs, in dependency order. */
  classes: string[];
}

/** Every layer's PyTorch code by path; two modules with the same are the same network to PyTorch. */
function signature(m: Module): string {
  return m
    .namedModules()
    .map(([path, x]) => `${path}:${x.constructor.name}:${layerCoderFor(x)?.(x).expr ?? ''}`)
    .concat([...m.stateDict()].map(([k, t]) => `${k}:${t.shape.join('x')}`))
    .join('\n');
}

function matches(m: Module, rebuild: () => Module): boolean {
  try {
    return signature(rebuild()) === signature(m);
  } catch {
    return false;
  }
}

const convArgs = (c: BasicConv2d): string[] => {
  const conv = c.conv;
  const [t, , l] = conv.pads;
  return [
    String(conv.inChannels),
    String(conv.outChannels),
    ...kwargs([
      ['kernel_size', String(conv.kernelSize[0])],
      ['stride', conv.stride[0] !== 1 ? String(conv.stride[0]) : undefined],
      ['padding', t ? String(t) : undefined],
    ]),
  ];
};

/** The template for `m`, or null when it has none or is not what its arguments build. */
export function templateFor(m: Module): Template | null {
  const cls = m.constructor;
  if (cls === BasicConv2d) {
    const b = m as BasicConv2d;
    const conv = b.conv;
    const square = conv.kernelSize[0] === conv.kernelSize[1] && conv.stride[0] === conv.stride[1] && conv.pads.every((p) => p === conv.pads[0]);
    const opts = { ...(conv.stride[0] !== 1 ? { stride: conv.stride[0] } : {}), ...(conv.pads[0] ? { padding: conv.pads[0] } : {}), fit: conv.fit };
    if (!square || conv.fit === 'ceil' || !matches(m, () => new BasicConv2d(conv.inChannels, conv.outChannels, conv.kernelSize[0], opts))) return null;
    return { expr: call('BasicConv2d', convArgs(b)), classes: ['BasicConv2d'] };
  }
  if (cls === Inception) {
    const inc = m as Inception;
    const last = (s: Sequential): BasicConv2d => s.at(-1) as BasicConv2d;
    const first = (s: Sequential): BasicConv2d => s.at(0) as BasicConv2d;
    const sizes = {
      ch1x1: inc.branch1.conv.outChannels,
      ch3x3red: first(inc.branch2).conv.outChannels,
      ch3x3: last(inc.branch2).conv.outChannels,
      ch5x5red: first(inc.branch3).conv.outChannels,
      ch5x5: last(inc.branch3).conv.outChannels,
      poolProj: last(inc.branch4).conv.outChannels,
    };
    const k = last(inc.branch3).conv.kernelSize[0];
    const inChannels = inc.branch1.conv.inChannels;
    if (!matches(m, () => new Inception(inChannels, sizes, { fiveByFive: k === 5 }))) return null;
    const args = [inChannels, ...Object.values(sizes)].map(String);
    return { expr: call('Inception', [...args, ...(k === 5 ? ['kernel_size=5'] : [])]), classes: ['BasicConv2d', 'Inception'] };
  }
  if (cls === GoogLeNet) {
    const g = m as GoogLeNet;
    const inc = (g as unknown as Record<string, Inception>)['inception3a'];
    const fiveByFive = ((inc?.branch3.at(-1) as BasicConv2d | undefined)?.conv.kernelSize[0] ?? 3) === 5;
    const opts = { numClasses: g.fc.outFeatures, inChannels: g.conv1.conv.inChannels, fiveByFive };
    if (!matches(m, () => new GoogLeNet(opts))) return null;
    const args = kwargs([
      ['num_classes', String(opts.numClasses)],
      ['in_channels', opts.inChannels !== 3 ? String(opts.inChannels) : undefined],
      ['five_by_five', fiveByFive ? 'True' : undefined],
    ]);
    return { expr: call('GoogLeNet', args), classes: ['BasicConv2d', 'Inception', 'GoogLeNet'] };
  }
  if (cls === BasicBlock || cls === Bottleneck) {
    const b = m as BasicBlock | Bottleneck;
    const inChannels = b.conv1.inChannels;
    const planes = b.conv1.outChannels;
    const stride = (cls === BasicBlock ? (b as BasicBlock).conv1 : (b as Bottleneck).conv2).stride[0];
    const name = cls === BasicBlock ? 'BasicBlock' : 'Bottleneck';
    if (!matches(m, () => (cls === BasicBlock ? new BasicBlock(inChannels, planes, { stride }) : new Bottleneck(inChannels, planes, { stride })))) return null;
    return { expr: call(name, [String(inChannels), String(planes), ...(stride !== 1 ? [`stride=${stride}`] : [])]), classes: [name] };
  }
  if (cls === ResNet) {
    const r = m as ResNet;
    const first = r.stages[0]?.at(0);
    const block = first instanceof Bottleneck ? 'bottleneck' : 'basic';
    const layers = r.stages.map((s) => s.length);
    const widths = r.stages.map((s) => (s.at(0) as BasicBlock | Bottleneck).conv1.outChannels);
    const opts = { block, layers, widths, numClasses: r.fc.outFeatures, inChannels: r.conv1.inChannels } as const;
    if (!matches(m, () => new ResNet(opts))) return null;
    const blockClass = block === 'basic' ? 'BasicBlock' : 'Bottleneck';
    const standard = widths.join() === '64,128,256,512';
    const args = [
      blockClass,
      pyList(layers),
      ...kwargs([
        ['widths', standard ? undefined : py(widths)],
        ['num_classes', String(opts.numClasses)],
        ['in_channels', opts.inChannels !== 3 ? String(opts.inChannels) : undefined],
      ]),
    ];
    return { expr: call('ResNet', args), classes: [blockClass, 'ResNet'] };
  }
  if (cls === CifarBasicBlock) {
    const b = m as CifarBasicBlock;
    const inChannels = b.conv1.inChannels;
    const planes = b.conv1.outChannels;
    const stride = b.conv1.stride[0];
    if (!matches(m, () => new CifarBasicBlock(inChannels, planes, { stride }))) return null;
    return { expr: call('CifarBasicBlock', [String(inChannels), String(planes), ...(stride !== 1 ? [`stride=${stride}`] : [])]), classes: ['CifarBasicBlock'] };
  }
  if (cls === CifarResNet) {
    const r = m as CifarResNet;
    const blocks = r.stages[0]?.length ?? 0;
    const widths = r.stages.map((s) => (s.at(0) as CifarBasicBlock).conv1.outChannels);
    const opts = { blocks, widths, numClasses: r.fc.outFeatures, inChannels: r.conv1.inChannels };
    if (!matches(m, () => new CifarResNet(opts))) return null;
    const args = kwargs([
      ['blocks', String(blocks)],
      ['widths', widths.join() === CIFAR_RESNET_WIDTHS.join() ? undefined : py(widths)],
      ['num_classes', String(opts.numClasses)],
      ['in_channels', opts.inChannels !== 3 ? String(opts.inChannels) : undefined],
    ]);
    return { expr: call('CifarResNet', args), classes: ['CifarBasicBlock', 'CifarResNet'] };
  }
  return null;
}

/** The Python source of the template classes. */
export const TEMPLATE_CLASSES: Record<string, string> = {
  BasicConv2d: `class BasicConv2d(nn.Module):
    """CONV (no bias) -> BN (eps 0.001) -> ReLU: every convolution of GoogLeNet."""

    def __init__(self, in_channels, out_channels, **conv_args):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **conv_args)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))
`,
  Inception: `class Inception(nn.Module):
    """Four branches over the same input, concatenated along the channels: 1x1; 1x1 -> 3x3;
    1x1 -> 3x3 (kernel_size=5 for the paper's 5x5); 3x3 max-pool -> 1x1."""

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj, kernel_size=3):
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=kernel_size, padding=kernel_size // 2),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, kernel_size=1),
        )

    def forward(self, x):
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return torch.cat(branches, dim=1)
`,
  GoogLeNet: `class GoogLeNet(nn.Module):
    """GoogLeNet (Inception v1) as torchvision builds it, without the auxiliary classifiers."""

    # name, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj (table 1 of the paper)
    MODULES = [
        ("3a", 64, 96, 128, 16, 32, 32), ("3b", 128, 128, 192, 32, 96, 64),
        ("4a", 192, 96, 208, 16, 48, 64), ("4b", 160, 112, 224, 24, 64, 64),
        ("4c", 128, 128, 256, 24, 64, 64), ("4d", 112, 144, 288, 32, 64, 64),
        ("4e", 256, 160, 320, 32, 128, 128), ("5a", 256, 160, 320, 32, 128, 128),
        ("5b", 384, 192, 384, 48, 128, 128),
    ]

    def __init__(self, num_classes=1000, in_channels=3, five_by_five=False, dropout=0.2):
        super().__init__()
        self.conv1 = BasicConv2d(in_channels, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.trunk = ["maxpool2"]
        self.maxpool2 = nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)
        channels = 192
        for name, *sizes in self.MODULES:
            setattr(self, "inception" + name, Inception(channels, *sizes, kernel_size=5 if five_by_five else 3))
            self.trunk.append("inception" + name)
            channels = sizes[0] + sizes[2] + sizes[4] + sizes[5]
            if name in ("3b", "4e"):
                pool = "maxpool3" if name == "3b" else "maxpool4"
                setattr(self, pool, nn.MaxPool2d(kernel_size=3 if name == "3b" else 2, stride=2, ceil_mode=True))
                self.trunk.append(pool)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        x = self.conv3(self.conv2(self.maxpool1(self.conv1(x))))
        for name in self.trunk:
            x = getattr(self, name)(x)
        return self.fc(self.dropout(self.flatten(self.avgpool(x))))
`,
  BasicBlock: `class BasicBlock(nn.Module):
    """Two 3x3 CONV -> BN with a ReLU between; out = relu(F(x) + shortcut(x)) (ResNet-18/34)."""

    expansion = 1

    def __init__(self, in_channels, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = projection(in_channels, planes, stride)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)
`,
  Bottleneck: `class Bottleneck(nn.Module):
    """1x1 CONV (reduce) -> 3x3 CONV (stride) -> 1x1 CONV (expand 4x), each with BN (ResNet-50 and deeper)."""

    expansion = 4

    def __init__(self, in_channels, planes, stride=1):
        super().__init__()
        out_channels = planes * self.expansion
        self.conv1 = nn.Conv2d(in_channels, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_channels, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = projection(in_channels, out_channels, stride)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)
`,
  ResNet: `class ResNet(nn.Module):
    """ResNet as torchvision builds it: CONV7/2 -> BN -> ReLU -> POOL3/2, stages of residual blocks
    (the first block of each later stage halves the size), global average pooling, FC."""

    def __init__(self, block, layers, widths=(64, 128, 256, 512), num_classes=1000, in_channels=3):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        channels = widths[0]
        self.num_stages = len(widths)
        for i, (planes, blocks) in enumerate(zip(widths, layers)):
            stage = []
            for j in range(blocks):
                stage.append(block(channels, planes, stride=2 if i > 0 and j == 0 else 1))
                channels = planes * block.expansion
            setattr(self, f"layer{i + 1}", nn.Sequential(*stage))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(self.flatten(self.avgpool(x)))
`,
  CifarBasicBlock: `class CifarBasicBlock(nn.Module):
    """Two 3x3 CONV -> BN with a ReLU between; out = relu(F(x) + shortcut(x)). The shortcut is option A
    of He et al. 2016: the identity, or where the shape changes the input subsampled and padded
    with zero channels (no parameters)."""

    def __init__(self, in_channels, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.stride = stride
        extra = planes - in_channels
        self.pad = (extra // 2, extra - extra // 2)  # zero channels before and after the input's

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x
        if self.stride != 1 or any(self.pad):
            shortcut = F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, *self.pad))
        return self.relu(out + shortcut)
`,
  CifarResNet: `class CifarResNet(nn.Module):
    """The CIFAR ResNets of He et al. 2016, section 4.2: CONV3 -> BN -> ReLU, stages of n = blocks basic
    blocks (the first block of each later stage halves the size), global average pooling, FC.
    Depth 6 * blocks + 2: ResNet-20, -32, -56 for blocks = 3, 5, 9."""

    def __init__(self, blocks, widths=(16, 32, 64), num_classes=10, in_channels=3):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, widths[0], kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        channels = widths[0]
        self.num_stages = len(widths)
        for i, planes in enumerate(widths):
            stage = []
            for j in range(blocks):
                stage.append(CifarBasicBlock(channels, planes, stride=2 if i > 0 and j == 0 else 1))
                channels = planes
            setattr(self, f"layer{i + 1}", nn.Sequential(*stage))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(self.flatten(self.avgpool(x)))
`,
};

/** Helper functions the template classes call. */
export const TEMPLATE_FUNCTIONS: Record<string, string> = {
  BasicBlock: 'projection',
  Bottleneck: 'projection',
};

export const PROJECTION = `def projection(in_channels, out_channels, stride):
    """The shortcut of a residual block: a 1x1 CONV + BN where the shape changes, else None (identity)."""
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
        nn.BatchNorm2d(out_channels),
    )
`;
