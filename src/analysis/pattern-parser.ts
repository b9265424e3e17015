import { ConvkitError } from '../tensor/errors.js';

/**
 * The CS231n notes' architecture pattern as a language:
 *
 *   INPUT[32x32x3] -> [[CONV3-16 -> RELU]*2 -> POOL2]*3 -> [FC64 -> RELU]*2 -> FC10
 *
 * Layers (case-insensitive; sizes are integers):
 *   INPUT[WxHxD]     the input volume (width x height x depth); optional, first if given
 *   CONV<F>-<K>      K filters of F x F; stride 1, padding (F-1)/2 (keeps the size; F odd)
 *   CONV<F>-<K>/<S>  stride S and padding 0 (unless p<P> gives it), for every S, 1 included
 *   CONV<F>-<K>p<P>  explicit padding P (CONV3-64p0, CONV7-64/2p3)
 *   POOL<F>          max pooling F x F with stride F;  POOL<F>/<S> stride S;  ...p<P> padding
 *   AVGPOOL<F>       the same, averaging
 *   FC<K>            fully connected, K outputs (a volume before it is flattened)
 *   RELU, NORM (local response normalization, AlexNet's), BN (batch norm),
 *   DROPOUT (p 0.5) or DROPOUT<p> (DROPOUT0.3), GAP (global average pooling), FLATTEN
 * Composition: `A -> B` in sequence (`→` also accepted); `[ ... ]*N` repeats a group N times
 * (N >= 1); `X*N` repeats one layer. Whitespace is free.
 *
 * `parsePattern` returns the syntax tree; a syntax error is a ConvkitError whose message
 * points at the column (1-based) with a caret under the pattern.
 */

export type PatternLayer =
  /** stride null: not written (stride 1, size-keeping padding); written, padding 0 unless pad is given. */
  | { kind: 'conv'; size: number; filters: number; stride: number | null; pad: number | null }
  | { kind: 'pool'; size: number; stride: number | null; pad: number; avg: boolean }
  | { kind: 'fc'; units: number }
  | { kind: 'relu' }
  | { kind: 'norm' }
  | { kind: 'bn' }
  | { kind: 'gap' }
  | { kind: 'flatten' }
  | { kind: 'dropout'; p: number };

/** One layer of a parsed pattern (e.g. `CONV3-16`), with its position in the source. */
export interface LayerNode {
  type: 'layer';
  layer: PatternLayer;
  /** 1-based column of the layer's first character. */
  column: number;
  text: string;
}

/** A repeated group of a parsed pattern, `[ ... ]*times`. */
export interface RepeatNode {
  type: 'repeat';
  body: PatternNode[];
  times: number;
  column: number;
}

/** An item of a parsed pattern: a layer or a repeated group. */
export type PatternNode = LayerNode | RepeatNode;

/** The `INPUT[WxHxD]` of a pattern. */
export interface PatternInput {
  width: number;
  height: number;
  depth: number;
  column: number;
}

/** A parsed layer pattern: its optional input and its items in order. */
export interface PatternAst {
  source: string;
  input: PatternInput | null;
  body: PatternNode[];
}

/** An error at a column of the pattern, shown with a caret. */
export function patternError(source: string, column: number, message: string): ConvkitError {
  const caret = `${' '.repeat(Math.max(0, column - 1))}^`;
  return new ConvkitError(`pattern error at column ${column}: ${message}\n  ${source}\n  ${caret}`);
}

type Tok =
  | { t: 'word'; v: string; col: number }
  | { t: 'num'; v: string; col: number }
  | { t: 'arrow' | '[' | ']' | '*' | 'end'; v: string; col: number };

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const col = i + 1;
    if (/\s/.test(c)) i++;
    else if (src.startsWith('->', i)) {
      toks.push({ t: 'arrow', v: '->', col });
      i += 2;
    } else if (c === '→') {
      toks.push({ t: 'arrow', v: c, col });
      i++;
    } else if (c === '[' || c === ']' || c === '*') {
      toks.push({ t: c, v: c, col });
      i++;
    } else if (/[A-Za-z]/.test(c)) {
      // A layer word runs over letters, digits, '.', '/', '-' (but not into an arrow '->').
      const m = /^[A-Za-z](?:[A-Za-z0-9./]|-(?!>))*/.exec(src.slice(i))!;
      toks.push({ t: 'word', v: m[0], col });
      i += m[0].length;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9][0-9xX×]*/.exec(src.slice(i))!;
      toks.push({ t: 'num', v: m[0], col });
      i += m[0].length;
    } else {
      throw patternError(src, col, `unexpected character '${c}'`);
    }
  }
  toks.push({ t: 'end', v: '', col: src.length + 1 });
  return toks;
}

const LAYER_FORMS = 'INPUT[WxHxD], CONV<F>-<K>[/S][p<P>], POOL<F>[/S][p<P>], AVGPOOL<F>[/S], FC<K>, RELU, NORM, BN, DROPOUT[<p>], GAP, FLATTEN';

function intOf(s: string | undefined): number | null {
  return s === undefined ? null : Number(s);
}

/** Reads one layer word, or throws naming the forms it could have meant. */
function parseLayer(word: string, src: string, col: number): PatternLayer {
  const w = word.toUpperCase();
  let m: RegExpExecArray | null;
  if ((m = /^CONV(\d+)-(\d+)(?:\/(\d+))?(?:P(\d+))?$/.exec(w))) {
    const layer = { kind: 'conv' as const, size: Number(m[1]), filters: Number(m[2]), stride: intOf(m[3]), pad: intOf(m[4]) };
    if (layer.size < 1 || layer.filters < 1 || (layer.stride !== null && layer.stride < 1)) throw patternError(src, col, `${word}: filter size, filter count and stride must be at least 1`);
    return layer;
  }
  if (w.startsWith('CONV')) {
    throw patternError(src, col, `'${word}' is not a CONV layer; write CONV<F>-<K> with optional /<S> and p<P>, e.g. CONV3-64, CONV5-32/2, CONV3-64p0`);
  }
  if ((m = /^(AVG)?POOL(\d+)(?:\/(\d+))?(?:P(\d+))?$/.exec(w))) {
    const layer = { kind: 'pool' as const, size: Number(m[2]), stride: intOf(m[3]), pad: intOf(m[4]) ?? 0, avg: m[1] !== undefined };
    if (layer.size < 1 || (layer.stride !== null && layer.stride < 1)) throw patternError(src, col, `${word}: pool size and stride must be at least 1`);
    return layer;
  }
  if (/^(AVG)?POOL/.test(w)) throw patternError(src, col, `'${word}' is not a POOL layer; write POOL<F> with optional /<S> and p<P>, e.g. POOL2, POOL3/2`);
  if ((m = /^FC(\d+)$/.exec(w))) {
    if (Number(m[1]) < 1) throw patternError(src, col, `${word}: an FC layer needs at least 1 output`);
    return { kind: 'fc', units: Number(m[1]) };
  }
  if (w.startsWith('FC')) throw patternError(src, col, `'${word}' is not an FC layer; write FC<K>, e.g. FC4096`);
  if ((m = /^DROPOUT(\d*\.?\d+)?$/.exec(w))) {
    const p = m[1] === undefined ? 0.5 : Number(m[1]);
    if (!(p >= 0 && p < 1)) throw patternError(src, col, `${word}: the dropout probability must be in [0, 1), got ${m[1]}`);
    return { kind: 'dropout', p };
  }
  if (w === 'RELU') return { kind: 'relu' };
  if (w === 'NORM' || w === 'LRN') return { kind: 'norm' };
  if (w === 'BN') return { kind: 'bn' };
  if (w === 'GAP') return { kind: 'gap' };
  if (w === 'FLATTEN') return { kind: 'flatten' };
  throw patternError(src, col, `unknown layer '${word}'; expected one of ${LAYER_FORMS}`);
}

class Parser {
  private pos = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Tok[],
  ) {}

  private peek(): Tok {
    return this.toks[this.pos]!;
  }

  private next(): Tok {
    return this.toks[this.pos++]!;
  }

  private fail(tok: Tok, expected: string): never {
    const got = tok.t === 'end' ? 'the end of the pattern' : `'${tok.v}'`;
    throw patternError(this.src, tok.col, `expected ${expected}, got ${got}`);
  }

  parse(): PatternAst {
    let input: PatternInput | null = null;
    const first = this.peek();
    if (first.t === 'word' && first.v.toUpperCase() === 'INPUT') {
      input = this.input();
      if (this.peek().t === 'end') return { source: this.src, input, body: [] };
      if (this.peek().t !== 'arrow') this.fail(this.peek(), "'->' after INPUT[...]");
      this.next();
    }
    const body = this.chain();
    if (this.peek().t !== 'end') this.fail(this.peek(), this.peek().t === ']' ? "no ']' here (no '[' is open)" : "'->' or the end of the pattern");
    return { source: this.src, input, body };
  }

  private input(): PatternInput {
    const word = this.next();
    const open = this.next();
    if (open.t !== '[') this.fail(open, "'[' after INPUT (INPUT[32x32x3])");
    const dims = this.next();
    if (dims.t !== 'num') this.fail(dims, 'the input volume as width x height x depth, e.g. 32x32x3');
    const m = /^(\d+)[xX×](\d+)[xX×](\d+)$/.exec(dims.v);
    if (!m) throw patternError(this.src, dims.col, `the input volume must be width x height x depth, e.g. 32x32x3, got '${dims.v}'`);
    const [width, height, depth] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (width < 1 || height < 1 || depth < 1) throw patternError(this.src, dims.col, `the input volume needs positive sizes, got '${dims.v}'`);
    const close = this.next();
    if (close.t !== ']') this.fail(close, "']' closing INPUT[...]");
    return { width, height, depth, column: word.col };
  }

  private chain(): PatternNode[] {
    const nodes = [this.term()];
    while (this.peek().t === 'arrow') {
      this.next();
      nodes.push(this.term());
    }
    return nodes;
  }

  private term(): PatternNode {
    const atom = this.atom();
    if (this.peek().t !== '*') return atom;
    this.next();
    const n = this.next();
    if (n.t !== 'num' || !/^\d+$/.test(n.v)) this.fail(n, 'a repeat count after \'*\', e.g. *2');
    if (Number(n.v) === 0) throw patternError(this.src, n.col, 'a repeat count of 0 would drop what it repeats; write 1 or more, or delete the part');
    return { type: 'repeat', body: atom.type === 'repeat' && atom.times === 1 ? atom.body : [atom], times: Number(n.v), column: atom.column };
  }

  private atom(): PatternNode {
    const tok = this.next();
    if (tok.t === '[') {
      if (this.peek().t === ']') this.fail(this.peek(), 'a layer inside [ ]');
      const body = this.chain();
      const close = this.next();
      if (close.t !== ']') this.fail(close, `']' to close the '[' at column ${tok.col}`);
      // A group without '*N' is a group once.
      return { type: 'repeat', body, times: 1, column: tok.col };
    }
    if (tok.t === 'word') {
      if (tok.v.toUpperCase() === 'INPUT') throw patternError(this.src, tok.col, 'INPUT[...] can only come first');
      return { type: 'layer', layer: parseLayer(tok.v, this.src, tok.col), column: tok.col, text: tok.v };
    }
    return this.fail(tok, 'a layer or \'[\'');
  }
}

/** Parses a layer pattern such as `INPUT[32x32x3] -> CONV3-16 -> RELU -> POOL2 -> FC10`; throws a ConvkitError pointing at the column of a mistake. */
export function parsePattern(source: string): PatternAst {
  if (typeof source !== 'string' || !source.trim()) throw new ConvkitError('pattern: expected a pattern such as "INPUT[32x32x3] -> CONV3-16 -> RELU -> POOL2 -> FC10"');
  return new Parser(source, tokenize(source)).parse();
}

/** The layers in order, repeats unrolled. */
export function expandPattern(ast: PatternAst): LayerNode[] {
  const out: LayerNode[] = [];
  const walk = (nodes: readonly PatternNode[]): void => {
    for (const n of nodes) {
      if (n.type === 'layer') out.push(n);
      else for (let i = 0; i < n.times; i++) walk(n.body);
    }
  };
  walk(ast.body);
  return out;
}

/** Heuristic: does this text look like a pattern rather than a model name? */
export function looksLikePattern(text: string): boolean {
  return /->|→|\[|^\s*INPUT/i.test(text) || /^\s*(CONV\d|POOL\d|FC\d)/i.test(text);
}
