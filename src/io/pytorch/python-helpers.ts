/**
 * Small PyTorch classes that model.py includes when a convkit layer has a setting PyTorch's
 * own layers lack. Each keeps PyTorch's parameter names (`weight`, `bias`), so state dicts
 * still load by name. Only the helpers a model uses are written.
 */

export type HelperName = 'PadConv2d' | 'CropConvTranspose2d' | 'LocallyConnected2d' | 'CircularPad2d' | 'ZeroPadShortcut';

const CEIL_EXTRA = `def _ceil_extra(size, before, after, kernel, stride, dilation):
    """Extra far-side padding that keeps a last partial window (convkit's fit: 'ceil', PyTorch's ceil_mode)."""
    span = size + before + after - (dilation * (kernel - 1) + 1)
    if span % stride == 0:
        return 0
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + before:  # the last window must start inside the input
        out -= 1
    return max(0, (out - 1) * stride + dilation * (kernel - 1) + 1 - (size + before + after))
`;

const HELPERS: Record<HelperName, { needs?: HelperName[]; code: string }> = {
  PadConv2d: {
    code: `${CEIL_EXTRA}

class PadConv2d(nn.Conv2d):
    """nn.Conv2d with padding given per side, pads=(left, right, top, bottom) as F.pad takes it, and
    optionally ceil_mode=True: a last partial window is kept, its missing inputs read as zeros."""

    def __init__(self, *args, pads=(0, 0, 0, 0), ceil_mode=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.pads = tuple(pads)
        self.ceil_mode = ceil_mode

    def forward(self, x):
        left, right, top, bottom = self.pads
        if any(self.pads):
            mode = "constant" if self.padding_mode == "zeros" else self.padding_mode
            x = F.pad(x, self.pads, mode=mode)
        if self.ceil_mode:
            kh, kw = self.kernel_size
            extra_h = _ceil_extra(x.shape[-2] - top - bottom, top, bottom, kh, self.stride[0], self.dilation[0])
            extra_w = _ceil_extra(x.shape[-1] - left - right, left, right, kw, self.stride[1], self.dilation[1])
            x = F.pad(x, (0, extra_w, 0, extra_h))
        return self._conv_forward(x, self.weight, self.bias)
`,
  },
  CropConvTranspose2d: {
    code: `class CropConvTranspose2d(nn.ConvTranspose2d):
    """nn.ConvTranspose2d whose padding differs per side: computed without padding, then
    crop=(left, right, top, bottom) rows and columns are cut from the output's edges."""

    def __init__(self, *args, crop=(0, 0, 0, 0), **kwargs):
        super().__init__(*args, **kwargs)
        self.crop = tuple(crop)

    def forward(self, x):
        y = super().forward(x)
        left, right, top, bottom = self.crop
        return y[..., top:y.shape[-2] - bottom, left:y.shape[-1] - right]
`,
  },
  LocallyConnected2d: {
    needs: ['PadConv2d'],
    code: `class LocallyConnected2d(nn.Module):
    """A convolution without weight sharing: every output position has its own filters.
    weight [out_h, out_w, out_channels, in_channels, kh, kw], bias [out_channels, out_h, out_w]."""

    def __init__(self, in_channels, out_channels, kernel_size, input_size, stride=1, pads=(0, 0, 0, 0),
                 dilation=1, bias=True, ceil_mode=False):
        super().__init__()
        pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)
        self.kernel_size, self.stride, self.dilation = pair(kernel_size), pair(stride), pair(dilation)
        self.pads, self.ceil_mode = tuple(pads), ceil_mode
        left, right, top, bottom = self.pads
        h, w = pair(input_size)
        extra_h = _ceil_extra(h, top, bottom, self.kernel_size[0], self.stride[0], self.dilation[0]) if ceil_mode else 0
        extra_w = _ceil_extra(w, left, right, self.kernel_size[1], self.stride[1], self.dilation[1]) if ceil_mode else 0
        self.extra = (extra_w, extra_h)
        grid = [(size + p - d * (k - 1) - 1) // s + 1 for size, p, k, s, d in
                zip((h, w), (top + bottom + extra_h, left + right + extra_w), self.kernel_size, self.stride, self.dilation)]
        self.grid = tuple(grid)
        fan_in = in_channels * self.kernel_size[0] * self.kernel_size[1]
        self.weight = nn.Parameter(torch.randn(*grid, out_channels, in_channels, *self.kernel_size) * (2.0 / fan_in) ** 0.5)
        self.bias = nn.Parameter(torch.zeros(out_channels, *grid)) if bias else None

    def forward(self, x):
        left, right, top, bottom = self.pads
        x = F.pad(x, (left, right + self.extra[0], top, bottom + self.extra[1]))
        cols = F.unfold(x, self.kernel_size, dilation=self.dilation, stride=self.stride)  # [N, C*kh*kw, L]
        gh, gw = self.grid
        w = self.weight.reshape(gh * gw, self.weight.shape[2], -1)  # [L, K, C*kh*kw]
        y = torch.einsum("ncl,lkc->nkl", cols, w).reshape(x.shape[0], -1, gh, gw)
        return y + self.bias if self.bias is not None else y
`,
  },
  CircularPad2d: {
    code: `class CircularPad2d(nn.Module):
    """Circular (wrap-around) padding, padding=(left, right, top, bottom); nn.CircularPad2d from torch 2.1."""

    def __init__(self, padding):
        super().__init__()
        self.padding = (padding,) * 4 if isinstance(padding, int) else tuple(padding)

    def forward(self, x):
        return F.pad(x, self.padding, mode="circular")
`,
  },
  ZeroPadShortcut: {
    code: `class ZeroPadShortcut(nn.Module):
    """The CIFAR ResNets' parameter-free shortcut (He et al. 2016, option A): x[:, :, ::stride, ::stride]
    with zero channels added, (out - in) // 2 before the input's and the rest after."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.stride = stride
        extra = out_channels - in_channels
        self.pad = (extra // 2, extra - extra // 2)

    def forward(self, x):
        return F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, *self.pad))
`,
  },
};

/** The Python source of the helpers `names` use (each once, dependencies first). */
export function helperSource(names: Iterable<HelperName>): string[] {
  const out: HelperName[] = [];
  const visit = (n: HelperName): void => {
    if (out.includes(n)) return;
    for (const d of HELPERS[n].needs ?? []) visit(d);
    out.push(n);
  };
  for (const n of [...names].sort()) visit(n);
  return out.map((n) => HELPERS[n].code);
}
