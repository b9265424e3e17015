import { ConvkitError } from '../../tensor/errors.js';

/**
 * Python literals and names for the generated PyTorch code. Everything written into model.py
 * and train.py goes through here, so a value that Python would read differently (NaN, a
 * string with a quote, a name that is a keyword) is handled in one place.
 */

/** A JS value as the Python literal that means the same: numbers, booleans, null, strings, arrays (tuples). */
export function py(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return "float('nan')";
    if (v === Infinity) return "float('inf')";
    if (v === -Infinity) return "-float('inf')";
    return String(v);
  }
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return v.length === 1 ? `(${py(v[0])},)` : `(${v.map(py).join(', ')})`;
  throw new ConvkitError(`PyTorch export: cannot write ${typeof v} ${JSON.stringify(v)} as a Python literal`);
}

/** A list literal (Python list, for values a person may want to append to). */
export function pyList(v: readonly unknown[]): string {
  return `[${v.map(py).join(', ')}]`;
}

/** An [h, w] pair as PyTorch takes it: one number when both agree, else a tuple. */
export function pyPair(p: readonly [number, number]): string {
  return p[0] === p[1] ? String(p[0]) : py(p);
}

const KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(' '),
);

/** Whether `name` can be written as `self.name` in Python. */
export function isPythonIdentifier(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !KEYWORDS.has(name);
}

/**
 * How a module reaches its child: `self.name`; `self.blocks[2]` for an element of a list of
 * modules (convkit names it `blocks.2`; model.py holds an nn.ModuleList); `getattr(self, "0")`
 * for a name that is not an identifier.
 */
export function selfAttr(name: string): string {
  const item = /^([A-Za-z_][A-Za-z0-9_]*)\.(\d+)$/.exec(name);
  if (item && isPythonIdentifier(item[1]!)) return `self.${item[1]}[${item[2]}]`;
  return isPythonIdentifier(name) ? `self.${name}` : `getattr(self, ${py(name)})`;
}

/** A keyword argument list from [name, value-code] pairs, leaving out undefined values. */
export function kwargs(pairs: readonly (readonly [string, string | undefined])[]): string[] {
  return pairs.filter((p): p is readonly [string, string] => p[1] !== undefined).map(([k, v]) => `${k}=${v}`);
}

/** A call `fn(a, b, k=v)`. */
export function call(fn: string, args: readonly string[]): string {
  return `${fn}(${args.join(', ')})`;
}

/** Lines of Python with indentation handled for the caller. */
export class PyLines {
  private readonly lines: string[] = [];
  private depth = 0;

  line(text = ''): this {
    this.lines.push(text === '' ? '' : '    '.repeat(this.depth) + text);
    return this;
  }

  /** Several lines at the current depth (a block of text with its own relative indentation). */
  block(text: string): this {
    for (const l of text.replace(/\n$/, '').split('\n')) this.line(l);
    return this;
  }

  indent(fn: () => void): this {
    this.depth++;
    try {
      fn();
    } finally {
      this.depth--;
    }
    return this;
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

/** A Python docstring ("""...""") from text, wrapped at the given width. */
export function docstring(text: string, width = 92): string[] {
  const words = text.replace(/"""/g, "'''").split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if (cur && cur.length + 1 + w.length > width) {
      lines.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  if (lines.length <= 1) return [`"""${lines[0] ?? ''}"""`];
  return [`"""${lines[0]}`, ...lines.slice(1), '"""'];
}

/** A JSON value as a Python literal (dicts and lists), for settings read from metadata. */
export function pyJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pyJson).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${py(k)}: ${pyJson(x)}`)
      .join(', ')}}`;
  }
  return py(v);
}
