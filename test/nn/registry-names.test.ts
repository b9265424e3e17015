import { describe, expect, it } from 'vitest';
import * as ck from '../../src/index.js';
import { registeredName } from '../../src/nn/registry.js';

const { nn } = ck;

/**
 * A bundler's minifier renames classes (`class Gate` becomes `class e`). Saved architectures and
 * error messages must keep the registered name, or a model saved from a minified page could not
 * be loaded anywhere else.
 */
describe('layer names survive renamed classes', () => {
  class Gate extends nn.Module {
    readonly fc: ck.nn.Linear;
    constructor(readonly n: number) {
      super();
      this.fc = new nn.Linear(n, n);
      this.configArgs = [n];
    }
    forward(x: ck.Tensor): ck.Tensor {
      if (x.shape[1] !== this.n) throw new ck.ConvkitError(`expected ${this.n} features, got ${x.shape[1]}`);
      return ck.F.mul(x, ck.F.sigmoid(this.fc.forward(x)));
    }
  }
  nn.register('GateBlock', Gate);
  Object.defineProperty(Gate, 'name', { value: 'e' }); // what minification leaves

  it('getConfig, summaries and errors use the registered name, and the config rebuilds the layer', () => {
    const model = new nn.Sequential(new Gate(4), new nn.Linear(4, 2));
    const config = model.getConfig();
    expect(JSON.stringify(config)).toContain('"type":"GateBlock"');
    expect(JSON.stringify(config)).not.toContain('"type":"e"');
    const rebuilt = nn.fromConfig(JSON.parse(JSON.stringify(config))) as ck.nn.Sequential;
    expect(rebuilt.at(0)).toBeInstanceOf(Gate);
    expect(rebuilt.at(0).typeName).toBe('GateBlock');
    expect(() => model.forward(ck.zeros([1, 3]))).toThrow(/0 \(GateBlock\)/);
  });

  it('an unregistered subclass keeps its own class name', () => {
    class Wider extends Gate {}
    expect(new Wider(2).typeName).toBe('Wider');
  });

  it('every layer class convkit exports is saved under a fixed name equal to its class name', () => {
    // Files saved when names came from constructor.name (.convkit, checkpoints, architecture
    // JSON) name these classes; the registered names must stay exactly those.
    const exported = ([...Object.values(ck.nn), ...Object.values(ck.models), ck.io.OnnxModel] as unknown[]).filter(
      (v): v is abstract new (...a: never[]) => ck.nn.Module => typeof v === 'function' && v.prototype instanceof nn.Module,
    );
    const unregistered = exported.filter((c) => registeredName(c) === undefined).map((c) => c.name).sort();
    // Bases and the inference plan's modules, which are never saved.
    expect(unregistered).toEqual(['FusedLayers', 'GraphModule', 'InferenceGraph', 'InferenceLeaf', 'InferenceModule', 'InferenceSequential', 'PointwiseLayer']);
    const registered = exported.filter((c) => registeredName(c) !== undefined);
    expect(registered.length).toBeGreaterThan(40);
    for (const c of registered) expect(registeredName(c), c.name).toBe(c.name);
    for (const name of nn.registeredLayers().filter((n) => n !== 'GateBlock')) expect(exported.some((c) => c.name === name), name).toBe(true);
  });
});
