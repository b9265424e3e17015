import type { GraphOps, GraphTraceable } from '../../nn/graph-trace.js';
import type { Module } from '../../nn/module.js';
import { ConvkitError } from '../../tensor/errors.js';
import { isPythonIdentifier, selfAttr } from './python.js';

/**
 * The forward of a graph module (a residual block, an Inception module, any GraphModule) as
 * Python statements, read from its own `traceGraph` description: the same dataflow convkit
 * runs, written with strings for values. A value read once more later keeps its variable; one
 * that is not read again hands its name to the next result, so a chain reads
 * `out = self.conv1(x)`, `out = self.bn1(out)` as one would write it by hand; a branch (a child
 * that is not a single layer, or one whose result is concatenated) keeps the child's name.
 */

type Op = { kind: 'call'; child: string; leaf: boolean; input: number } | { kind: 'add'; inputs: [number, number] } | { kind: 'cat'; inputs: number[] };

export function graphForward(m: Module & GraphTraceable, where: string): string[] {
  const names = new Map<Module, string>(m.namedChildren().map(([n, c]) => [c, n]));
  const ops: Op[] = [];
  // Values are numbered: 0 is the input x, value i + 1 the result of ops[i].
  const ref = (v: string): number => Number(v);
  const graphOps: GraphOps<string> = {
    call: (child, v) => {
      const name = names.get(child);
      if (name === undefined) throw new ConvkitError(`PyTorch export: ${where}: traceGraph calls a module that is not one of its children (${child.typeName})`);
      ops.push({ kind: 'call', child: name, leaf: child.children().length === 0, input: ref(v) });
      return String(ops.length);
    },
    add: (a, b) => {
      ops.push({ kind: 'add', inputs: [ref(a), ref(b)] });
      return String(ops.length);
    },
    cat: (xs) => {
      if (xs.length === 0) throw new ConvkitError(`PyTorch export: ${where}: concatenation of no values`);
      ops.push({ kind: 'cat', inputs: xs.map(ref) });
      return String(ops.length);
    },
  };
  const result = ref(m.traceGraph('0', graphOps));
  const inputsOf = (op: Op): number[] => (op.kind === 'call' ? [op.input] : op.inputs);
  const lastUse = new Map<number, number>();
  ops.forEach((op, i) => inputsOf(op).forEach((v) => lastUse.set(v, i)));
  lastUse.set(result, ops.length);
  const catted = new Set(ops.flatMap((op) => (op.kind === 'cat' ? op.inputs : [])));

  const varOf = new Map<number, string>([[0, 'x']]);
  const taken = new Set(['x', 'self', 'torch', 'nn', 'F']);
  const fresh = (base: string): string => {
    let name = isPythonIdentifier(base) ? base : 'out';
    for (let k = 2; taken.has(name); k++) name = `${isPythonIdentifier(base) ? base : 'out'}${k}`;
    taken.add(name);
    return name;
  };
  const lines: string[] = [];
  // Variables named after a child (a branch) keep their name; only the plain chain variables are reused.
  const named = new Set<string>();
  ops.forEach((op, i) => {
    const ins = inputsOf(op).map((v) => varOf.get(v)!);
    const first = inputsOf(op)[0]!;
    const branch = op.kind === 'call' && (!op.leaf || catted.has(i + 1));
    const reusable = lastUse.get(first) === i && !branch && !named.has(varOf.get(first)!);
    const name = reusable ? varOf.get(first)! : fresh(branch && op.kind === 'call' ? op.child.replace(/\.(\d+)$/, '$1') : 'out');
    if (branch) named.add(name);
    varOf.set(i + 1, name);
    if (op.kind === 'call') lines.push(`${name} = ${selfAttr(op.child)}(${ins[0]})`);
    else if (op.kind === 'add') lines.push(`${name} = ${ins[0]} + ${ins[1]}`);
    else lines.push(`${name} = torch.cat([${ins.join(', ')}], dim=1)`);
  });
  lines.push(`return ${varOf.get(result)!}`);
  return lines;
}
