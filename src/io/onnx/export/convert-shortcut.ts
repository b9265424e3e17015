import { ZeroPadShortcut } from '../../../models/zero-pad-shortcut.js';
import { named, nodeName, registerOnnxConverter } from './converter.js';

/**
 * The CIFAR ResNets' option A shortcut: Slice with steps (x[:, :, ::s, ::s]), then Pad along
 * the channels with zeros. Slice and Pad take their settings as inputs at every exported
 * opset (11 and up).
 */
registerOnnxConverter(ZeroPadShortcut, (layer, { x }, ctx) => {
  const base = nodeName(ctx, 'ZeroPadShortcut');
  let v = x.name;
  if (layer.stride !== 1) {
    const [, , h, w] = x.t.shape as [number, number, number, number];
    const s = layer.stride;
    const ints = (values: number[], what: string): string => ctx.b.int64s(values, named(ctx, what));
    v = ctx.b.node('Slice', [v, ints([0, 0], 'starts'), ints([h, w], 'ends'), ints([2, 3], 'axes'), ints([s, s], 'steps')], {}, layer.padBefore || layer.padAfter ? `${base}.subsample` : base);
  }
  if (layer.padBefore || layer.padAfter) {
    // ONNX: every dimension's begin (N, C, H, W), then every end.
    const pads = ctx.b.int64s([0, layer.padBefore, 0, 0, 0, layer.padAfter, 0, 0], named(ctx, 'pads'));
    v = ctx.b.node('Pad', [v, pads], { mode: { s: 'constant' } }, base);
  }
  return v;
});
