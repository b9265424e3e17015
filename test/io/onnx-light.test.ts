/**
 * The "light" ONNX model-zoo graphs in the ONNX project's backend test data, light/ (CONFORMANCE_ROOT in onnx-helpers.ts):
 * real AlexNet, ZFNet-512, GoogLeNet (Inception v1), VGG-19, ResNet-50, SqueezeNet,
 * DenseNet-121, ShuffleNet and Inception v2 graphs whose weights are ConstantOfShape nodes.
 * Each is imported, run on arange(n).reshape([1, 3, 224, 224]) / n, and compared with
 * light_<model>_output_0.pb. They are big networks: on the js reference kernels the two that
 * take well over 20 s on a 2-core machine (VGG-19: ~140 s, ResNet-50: ~25 s) run only with
 * CONVKIT_SLOW_TESTS=1; the others take 1 to 17 s there. Faster backends run all nine
 * (wasm: under 5 s each).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, it } from 'vitest';
import * as ck from '../../src/index.js';
import { describeEachBackend } from '../helpers/backends.js';
import { CONFORMANCE_MISSING, CONFORMANCE_ROOT, expectMatches } from './onnx-helpers.js';

const ROOT = fileURLToPath(new URL('light/', CONFORMANCE_ROOT));
const slow = process.env['CONVKIT_SLOW_TESTS'] === '1';

/** Model -> whether it is slow on the js reference kernels (over ~20 s). */
const MODELS: Record<string, boolean> = {
  bvlc_alexnet: false,
  zfnet512: false,
  inception_v1: false,
  vgg19: true,
  resnet50: true,
  squeezenet: false,
  densenet121: false,
  shufflenet: false,
  inception_v2: false,
};

if (!existsSync(ROOT)) {
  describe('onnx light models', () => {
    it.skip(`${CONFORMANCE_MISSING} (looked in ${ROOT})`, () => {});
  });
} else {
  describeEachBackend('onnx light models', (backend) => {
    // describeEachBackend selects while collecting; select again for this block's tests.
    beforeAll(() => ck.setBackend(backend));
    for (const [name, isSlow] of Object.entries(MODELS)) {
      const gated = isSlow && backend === 'js' && !slow;
      const run = gated ? it.skip : it;
      run(gated ? `${name} (slow on js: set CONVKIT_SLOW_TESTS=1)` : name, async () => {
        const model = await ck.io.loadOnnx(join(ROOT, `light_${name}.onnx`));
        const shape = [1, 3, 224, 224];
        const n = shape.reduce((a, b) => a * b, 1);
        const x = ck.F.div(ck.arange(n), n).reshape(shape);
        const y = ck.noGrad(() => model.forward(x));
        const want = ck.io.readOnnxTensor(readFileSync(join(ROOT, `light_${name}_output_0.pb`)));
        expectMatches(y, want, name);
      }, 600_000);
    }
  });
}
