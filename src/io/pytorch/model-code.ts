import { traceModule } from '../../analysis/trace.js';
import { isGraphTraceable } from '../../nn/graph-trace.js';
import type { Module } from '../../nn/module.js';
import { InferenceModule } from '../../nn/optimize-for-inference.js';
import { Sequential } from '../../nn/sequential.js';
import { ConvkitError } from '../../tensor/errors.js';
import { graphForward } from './graph-code.js';
import { PROJECTION, TEMPLATE_CLASSES, TEMPLATE_FUNCTIONS, templateFor } from './graph-templates.js';
import { layerCoderFor } from './layer-code.js';
import { helperSource, type HelperName } from './python-helpers.js';
import { docstring, isPythonIdentifier, py, PyLines } from './python.js';
import { SAFETENSORS_PY } from './safetensors-py.js';

/**
 * model.py: the model as a PyTorch module a person can read and edit. A Sequential becomes an
 * nn.Sequential with one layer per line (and its output size in a comment), a zoo graph model
 * the torchvision-style classes of graph-templates.ts, any other graph module a class of its
 * own whose forward is read from its traceGraph. Parameter names are convkit's state-dict
 * names, so weights.safetensors loads into it with strict=True.
 */

export interface ModelSourceOptions {
  /** One item's input [C, H, W] (or [F]); sizes the comments and INPUT_SHAPE. */
  inputShape?: readonly number[];
  /** First line of the module docstring (e.g. "LeNet-5 exported from lenet.convkit"). */
  title: string;
  classNames?: readonly string[];
}

export interface ModelSource {
  source: string;
  /** State-dict entries PyTorch's layers have and convkit's lack (InstanceNorm's batch count), with their values. */
  torchOnlyKeys: Map<string, number>;
}

/** Stands in the list of a class's __init__ lines for an nn.ModuleList, filled in once all its elements are known. */
const LIST_MARK = '\u0001';

/** Marks where an element's comment starts, until alignComments lines the comments of one container up. */
const COMMENT = '\u0000';

/** Lines the size comments of one container's elements up in a column (up to a width, then one space apart). */
function alignComments(lines: string[]): string[] {
  const widths = lines.filter((l) => l.includes(COMMENT)).map((l) => l.indexOf(COMMENT));
  const column = Math.min(Math.max(0, ...widths), 72);
  return lines.map((l) => {
    const at = l.indexOf(COMMENT);
    return at < 0 ? l : `${l.slice(0, at)}${' '.repeat(Math.max(2, column - at + 2))}${l.slice(at + 1)}`;
  });
}

class Writer {
  readonly helpers = new Set<HelperName>();
  /** Class sources in dependency order. */
  readonly classes: string[] = [];
  private readonly classByText = new Map<string, string>();
  private readonly names = new Set<string>();
  readonly torchOnlyKeys = new Map<string, number>();
  projection = false;

  constructor(private readonly shapes: Map<string, number[]>) {}

  private addClass(name: string, text: (name: string) => string): string {
    const known = this.classByText.get(text(name));
    if (known) return known;
    let unique = name;
    for (let k = 2; this.names.has(unique) || unique in TEMPLATE_CLASSES; k++) unique = `${name}${k}`;
    const source = text(unique);
    this.names.add(unique);
    this.classByText.set(text(name), unique);
    this.classes.push(source);
    return unique;
  }

  private addTemplate(name: string): void {
    if (this.names.has(name)) return;
    if (TEMPLATE_FUNCTIONS[name] === 'projection') this.projection = true;
    this.names.add(name);
    this.classes.push(TEMPLATE_CLASSES[name]!);
  }

  shapeComment(path: string): string {
    const s = this.shapes.get(path);
    return `# ${path || 'model'}${s ? ` -> [N, ${s.join(', ')}]` : ''}`;
  }

  /** The Python expression that builds `m` (several lines for containers). */
  expr(m: Module, path: string): string[] {
    const coder = layerCoderFor(m);
    if (coder) {
      const code = coder(m);
      for (const h of code.helpers ?? []) this.helpers.add(h);
      for (const k of code.extraKeys ?? []) this.torchOnlyKeys.set(path ? `${path}.${k.name}` : k.name, k.value);
      return [code.expr];
    }
    if (m instanceof Sequential) {
      const lines = ['nn.Sequential('];
      const items = m.namedChildren().flatMap(([name, child]) => this.item(child, path ? `${path}.${name}` : name));
      lines.push(...alignComments(items).map((l) => `    ${l}`));
      lines.push(')');
      return lines;
    }
    if (isGraphTraceable(m)) {
      const t = templateFor(m);
      if (t) {
        t.classes.forEach((c) => this.addTemplate(c));
        return [t.expr];
      }
      return [`${this.genericClass(m, path)}()`];
    }
    throw new ConvkitError(
      `PyTorch export: ${path || 'model'} (${m.typeName}) has no PyTorch form: export writes convkit's layers, Sequential and graph modules ` +
        `(GraphModule with traceGraph)${m instanceof InferenceModule ? '; export the model itself, not what optimizeForInference made of it' : ''}` +
        `${m.typeName === 'OnnxModel' ? '; an imported ONNX graph is exported with --format onnx' : ''}`,
    );
  }

  /** One element of an nn.Sequential: its expression, a comma and its output size (aligned later, see alignComments). */
  item(m: Module, path: string): string[] {
    const lines = this.expr(m, path);
    lines[lines.length - 1] = `${lines[lines.length - 1]},${COMMENT}${this.shapeComment(path)}`;
    return lines;
  }

  /** A graph module without a template: a class with its children spelled out and its traced forward. */
  private genericClass(m: Module & { traceGraph: unknown }, path: string): string {
    const init: string[] = [];
    const lists = new Map<string, string[]>();
    for (const [name, child] of m.namedChildren()) {
      const childPath = path ? `${path}.${name}` : name;
      const item = /^([A-Za-z_][A-Za-z0-9_]*)\.(\d+)$/.exec(name);
      if (item) {
        // An array of modules: an nn.ModuleList, whose elements PyTorch names key.0, key.1, ... as convkit does.
        const list = lists.get(item[1]!) ?? [];
        if (!lists.has(item[1]!)) {
          lists.set(item[1]!, list);
          init.push(`${LIST_MARK}${item[1]}`);
        }
        list.push(...this.item(child, childPath));
        continue;
      }
      const lines = this.expr(child, childPath);
      if (isPythonIdentifier(name)) lines[0] = `self.${name} = ${lines[0]}`;
      else {
        lines[0] = `self.add_module(${py(name)}, ${lines[0]}`;
        lines[lines.length - 1] = `${lines[lines.length - 1]})`;
      }
      init.push(...lines);
    }
    const expanded = init.flatMap((l) => {
      if (!l.startsWith(LIST_MARK)) return [l];
      const key = l.slice(LIST_MARK.length);
      return [`self.${key} = nn.ModuleList([`, ...alignComments(lists.get(key)!).map((x) => `    ${x}`), '])'];
    });
    const forward = graphForward(m as Module & import('../../nn/graph-trace.js').GraphTraceable, `${path || 'model'} (${m.typeName})`);
    return this.addClass(m.typeName.replace(/[^A-Za-z0-9_]/g, '_'), (name) => {
      const w = new PyLines();
      w.line(`class ${name}(nn.Module):`).indent(() => {
        for (const l of docstring(`convkit's ${m.describe()}, written out layer by layer; forward is its traceGraph.`)) w.line(l);
        w.line();
        w.line('def __init__(self):').indent(() => {
          w.line('super().__init__()');
          expanded.forEach((l) => w.line(l));
        });
        w.line();
        w.line('def forward(self, x):').indent(() => forward.forEach((l) => w.line(l)));
      });
      return w.toString();
    });
  }
}

/** Output shapes by path, for the comments (none where the model cannot be traced on shapes). */
function shapesByPath(model: Module, inputShape: readonly number[] | undefined): Map<string, number[]> {
  if (!inputShape) return new Map();
  try {
    // A container's output is that of the last step traced inside it (the trace has rows for layers and sums only).
    const shapes = new Map<string, number[]>();
    for (const r of traceModule(model, inputShape)) {
      const parts = r.path.split('.');
      for (let i = 1; i <= parts.length; i++) shapes.set(parts.slice(0, i).join('.'), r.output);
    }
    return shapes;
  } catch {
    return new Map();
  }
}

/** The text of model.py for `model`. */
export function modelSource(model: Module, opts: ModelSourceOptions): ModelSource {
  const w = new Writer(shapesByPath(model, opts.inputShape));
  // The root: an nn.Sequential subclass (names 0, 1, ... as in convkit), or the expression that builds it.
  let root: string[];
  if (model instanceof Sequential) {
    const body = alignComments(model.namedChildren().flatMap(([name, child]) => w.item(child, name)));
    const lines = new PyLines();
    lines.line('class Net(nn.Sequential):').indent(() => {
      lines.line(`"""${opts.title.replace(/"""/g, "'''")}; the layers are numbered as in convkit (0, 1, ...)."""`);
      lines.line();
      lines.line('def __init__(self):').indent(() => {
        lines.line('super().__init__(');
        lines.indent(() => body.forEach((l) => lines.line(l)));
        lines.line(')');
      });
    });
    root = [lines.toString(), '', '', 'def build_model():', '    """The network with fresh weights; load_weights(model, path) fills them in."""', '    return Net()'];
  } else {
    const e = w.expr(model, '');
    root = ['def build_model():', '    """The network with fresh weights; load_weights(model, path) fills them in."""', `    return ${e[0]}`, ...e.slice(1).map((l) => `    ${l}`)];
  }

  const out = new PyLines();
  out.line(`"""${opts.title.replace(/"""/g, "'''")}`);
  out.block(`
Written by convkit's \`export --format pytorch\`. Parameter and buffer names are convkit's
state-dict names, so the weights load by name with strict=True:

    model = build_model()
    load_weights(model, "weights.safetensors")

and \`save_weights(model, path)\` writes float32 safetensors that convkit reads back by the same
names (ck.io.loadSafetensors, then model.loadStateDict). Edit this file as you would any PyTorch
model; keep the layer names for the weights to stay loadable by convkit.
"""`);
  out.line('import torch');
  out.line('import torch.nn.functional as F');
  out.line('from torch import nn');
  out.line();
  out.line(`# One input as the model takes it, C x H x W (a batch is [N, ${opts.inputShape ? opts.inputShape.join(', ') : '...'}]).`);
  out.line(`INPUT_SHAPE = ${opts.inputShape ? py([...opts.inputShape]) : 'None'}`);
  out.line(`CLASS_NAMES = ${opts.classNames ? `[${opts.classNames.map((c) => py(c)).join(', ')}]` : 'None'}`);
  out.line('# State-dict entries PyTorch keeps and convkit does not: filled in on load, left out by save_weights.');
  out.line(`TORCH_ONLY_KEYS = {${[...w.torchOnlyKeys].map(([k, v]) => `${py(k)}: ${v}`).join(', ')}}`);
  out.line();
  const sections = [...helperSource(w.helpers), ...(w.projection ? [PROJECTION] : []), ...w.classes];
  for (const s of sections) {
    out.line();
    out.block(s);
    out.line();
  }
  out.line();
  root.forEach((l) => (l.includes('\n') ? out.block(l) : out.line(l)));
  out.line();
  out.line();
  out.block(SAFETENSORS_PY);
  return { source: out.toString(), torchOnlyKeys: w.torchOnlyKeys };
}
