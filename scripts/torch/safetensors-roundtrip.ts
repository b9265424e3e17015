/**
 * convkit's half of scripts/torch/check_safetensors_roundtrip.py (run by it through vite-node):
 *
 *   vite-node scripts/torch/safetensors-roundtrip.ts <in.safetensors> <out.safetensors> <model.safetensors>
 *
 * reads <in> (written by PyTorch in the reference layout) and writes its tensors and metadata
 * back to <out>; then writes a convkit model's state dict (Conv2d, BatchNorm2d, Linear with the
 * parameter names of the Python side's TinyNet, seeded, one training step of batch norm so the
 * buffers move) to <model>.
 */
import * as ck from '../../src/index.js';

const [input, output, modelFile] = process.argv.slice(2);
if (!input || !output || !modelFile) {
  console.error('usage: safetensors-roundtrip.ts <in.safetensors> <out.safetensors> <model.safetensors>');
  process.exit(2);
}

const { tensors, metadata } = await ck.io.loadSafetensors(input);
await ck.io.saveSafetensors(tensors, output, { metadata });

class TinyNet extends ck.nn.Module {
  conv = new ck.nn.Conv2d(3, 4, 3);
  bn = new ck.nn.BatchNorm2d(4);
  fc = new ck.nn.Linear(16, 5);
  forward(x: ck.Tensor): ck.Tensor {
    return this.fc.forward(ck.F.relu(this.bn.forward(this.conv.forward(x))).reshape([x.shape[0]!, 16]));
  }
}
ck.manualSeed(19);
const net = new TinyNet();
net.train();
net.forward(ck.randn([2, 3, 4, 4], { seed: 3 }));
await ck.io.saveSafetensors(net, modelFile, { metadata: { written_by: 'convkit' } });
console.log(`convkit: read ${tensors.size} tensors, wrote ${output} and ${modelFile}`);
