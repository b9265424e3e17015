import type { PatternLayer } from './analysis.js';

/**
 * Writing the pattern language back from a list of layers (the editor's form), folding
 * repeated runs into the notes' `[ ... ]*N` groups, and adapting a pattern to a dataset
 * (its INPUT volume and the last FC's class count).
 */

export function layerText(l: PatternLayer): string {
  switch (l.kind) {
    case 'conv':
      return `CONV${l.size}-${l.filters}${l.stride !== null ? `/${l.stride}` : ''}${l.pad !== null ? `p${l.pad}` : ''}`;
    case 'pool':
      return `${l.avg ? 'AVG' : ''}POOL${l.size}${l.stride !== null ? `/${l.stride}` : ''}${l.pad ? `p${l.pad}` : ''}`;
    case 'fc':
      return `FC${l.units}`;
    case 'dropout':
      return l.p === 0.5 ? 'DROPOUT' : `DROPOUT${l.p}`;
    default:
      return l.kind.toUpperCase();
  }
}

const MAX_BLOCK = 8;

/** Folds repeats greedily (the longest stretch covered first), then folds inside each group. */
export function foldRepeats(items: readonly string[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < items.length) {
    let best = { len: 1, times: 1 };
    for (let len = 1; len <= MAX_BLOCK && i + 2 * len <= items.length; len++) {
      let times = 1;
      while (i + (times + 1) * len <= items.length && sameRun(items, i, i + times * len, len)) times++;
      if (times > 1 && len * times > best.len * best.times) best = { len, times };
    }
    if (best.times === 1) {
      out.push(items[i]!);
      i++;
      continue;
    }
    const block = items.slice(i, i + best.len);
    out.push(best.len === 1 ? `${block[0]}*${best.times}` : `[${foldRepeats(block)}]*${best.times}`);
    i += best.len * best.times;
  }
  return out.join(' -> ');
}

function sameRun(items: readonly string[], a: number, b: number, len: number): boolean {
  for (let k = 0; k < len; k++) if (items[a + k] !== items[b + k]) return false;
  return true;
}

/** `INPUT[WxHxD] -> ...` from the input [C, H, W] and the layers. */
export function patternText(input: readonly [number, number, number], layers: readonly PatternLayer[]): string {
  const head = `INPUT[${input[2]}x${input[1]}x${input[0]}]`;
  return layers.length ? `${head} -> ${foldRepeats(layers.map(layerText))}` : head;
}

/** The pattern with INPUT[...] set to `input` and its last FC giving `classes` outputs. */
export function adaptPattern(text: string, input: readonly [number, number, number], classes: number): string {
  const volume = `INPUT[${input[2]}x${input[1]}x${input[0]}]`;
  let out = /INPUT\s*\[[^\]]*\]/i.test(text) ? text.replace(/INPUT\s*\[[^\]]*\]/i, volume) : `${volume} -> ${text}`;
  const fcs = [...out.matchAll(/\bFC(\d+)\b/gi)];
  const lastFc = fcs[fcs.length - 1];
  if (lastFc?.index !== undefined) out = `${out.slice(0, lastFc.index)}FC${classes}${out.slice(lastFc.index + lastFc[0].length)}`;
  return out;
}
