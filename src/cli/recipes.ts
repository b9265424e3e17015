import { ConvkitError } from '../tensor/errors.js';

/**
 * `convkit train --recipe <name>`: named sets of training flags that reach a known accuracy
 * (README gives each one's measured accuracy, time and command). A recipe only fills in flags:
 * any flag given on the command line wins over the recipe's value, and the run prints the
 * exact equivalent command line first, so a recipe is never a hidden setting.
 */

export type RecipeValue = string | number | boolean;

export interface Recipe {
  /** One line for --help. */
  description: string;
  /** Option keys as commander names them (camelCase: batchSize for --batch-size) and their values, in print order. */
  flags: Readonly<Record<string, RecipeValue>>;
}

/** What both recipes share: the net, the optimizer and schedule, smoothing and the inputs' normalization. */
const SMALL_IMAGE_TRAINING = {
  batchSize: 128,
  optimizer: 'nesterov',
  lr: 0.1,
  momentum: 0.9,
  weightDecay: 5e-4,
  schedule: 'cosine',
  warmup: 1,
} as const;

export const RECIPES: Readonly<Record<string, Recipe>> = {
  'fashion-mnist': {
    description: 'Fashion-MNIST, batch-norm VGG-style net, SGD + Nesterov, warm-up + cosine, augmentation, label smoothing',
    flags: {
      model: 'vgg-small-bn',
      data: 'fashion-mnist',
      epochs: 15,
      ...SMALL_IMAGE_TRAINING,
      augment: 'standard',
      labelSmoothing: 0.1,
      normalize: 'channel',
    },
  },
  mnist: {
    description: 'the MNIST digits, the same net and optimizer, random crops only (no flips: mirrored digits are other symbols)',
    flags: {
      model: 'vgg-small-bn',
      data: 'digits',
      epochs: 8,
      ...SMALL_IMAGE_TRAINING,
      augment: 'crop',
      labelSmoothing: 0.1,
      normalize: 'channel',
    },
  },
};

/** --batch-size for batchSize. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)}`;
}

function formatValue(v: RecipeValue): string {
  const s = String(v);
  return /^[\w.:,+\/=@-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** `--key value` pairs (a true boolean is the bare flag; false is left out). */
export function formatFlags(entries: readonly (readonly [string, RecipeValue])[]): string {
  return entries
    .filter(([, v]) => v !== false)
    .map(([k, v]) => (v === true ? flagName(k) : `${flagName(k)} ${formatValue(v)}`))
    .join(' ');
}

export interface AppliedRecipe<F> {
  flags: F;
  /** The equivalent command line, e.g. 'convkit train --model vgg-small-bn ... --epochs 1'. */
  commandLine: string;
  /** The recipe's flags the command line overrode, for the log. */
  overridden: string[];
}

/**
 * The flags with the recipe's values filled in wherever the user did not give the flag
 * (`explicit(key)` says whether they did: commander's getOptionValueSource(key) === 'cli').
 * `explicitEntries` are the user's own flags, printed after the recipe's in the command line.
 */
export function applyRecipe<F extends object>(
  name: string,
  flags: F,
  explicit: (key: string) => boolean,
  explicitEntries: readonly (readonly [string, RecipeValue])[],
  table: Readonly<Record<string, Recipe>> = RECIPES,
): AppliedRecipe<F> {
  const recipe = table[name];
  if (!recipe) throw new ConvkitError(`unknown --recipe '${name}'; choose one of ${Object.keys(table).join(', ')}`);
  const out = { ...flags } as Record<string, unknown>;
  const overridden: string[] = [];
  const entries: [string, RecipeValue][] = [];
  for (const [key, value] of Object.entries(recipe.flags)) {
    if (explicit(key)) {
      overridden.push(flagName(key));
      entries.push([key, out[key] as RecipeValue]);
    } else {
      out[key] = value;
      entries.push([key, value]);
    }
  }
  const extra = explicitEntries.filter(([k]) => k !== 'recipe' && !(k in recipe.flags));
  const commandLine = `convkit train ${formatFlags([...entries, ...extra])}`;
  return { flags: out as F, commandLine, overridden };
}
