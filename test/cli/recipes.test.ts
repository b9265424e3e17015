import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { applyRecipe, flagName, formatFlags, RECIPES, type Recipe } from '../../src/cli/recipes.js';
import { registerTrain } from '../../src/cli/commands/train.js';
import { expectConvkitError } from '../helpers/assert.js';

/** --recipe: the flag merge (explicit flags win), the printed command line, and that every recipe names real options. */

const table: Record<string, Recipe> = {
  small: { description: 'a test recipe', flags: { model: 'lenet5', epochs: 4, batchSize: 64, weightDecay: 5e-4, augment: 'crop', json: true } },
};

function trainCommand(): Command {
  const program = new Command();
  registerTrain(program);
  return program.commands.find((c) => c.name() === 'train')!;
}

describe('convkit train option values', () => {
  const parse = (flag: string, text: string) => {
    const o = trainCommand().options.find((x) => x.long === flag)!;
    return (o as unknown as { parseArg: (v: string, prev: unknown) => unknown }).parseArg(text, undefined);
  };
  it('accepts good values and refuses bad ones naming the flag', () => {
    expect(parse('--label-smoothing', '0.1')).toBe(0.1);
    expect(parse('--ema', '0.999')).toBe(0.999);
    expect(parse('--warmup', '0')).toBe(0);
    expect(parse('--plateau-patience', '3')).toBe(3);
    expectConvkitError(() => parse('--label-smoothing', '1'), /--label-smoothing must be a number in \[0, 1\)/);
    expectConvkitError(() => parse('--ema', '1'), /--ema must be a decay between 0 and 1/);
    expectConvkitError(() => parse('--ema', 'x'), /--ema must be/);
    expectConvkitError(() => parse('--warmup', '1.5'), /--warmup must be a whole number of epochs/);
    expectConvkitError(() => parse('--plateau-factor', '2'), /--plateau-factor must be a number between 0 and 1/);
    expectConvkitError(() => parse('--plateau-patience', '-1'), /--plateau-patience must be a whole number/);
  });
});

describe('recipes', () => {
  it('fills in the flags the user did not give and keeps the ones they did', () => {
    const flags = { model: 'lenet5', epochs: 2, batchSize: 32, weightDecay: 0, augment: 'none', seed: 3 };
    const explicit = new Set(['epochs', 'seed']);
    const r = applyRecipe('small', flags, (k) => explicit.has(k), [['epochs', 2], ['seed', 3]], table);
    expect(r.flags).toEqual({ model: 'lenet5', epochs: 2, batchSize: 64, weightDecay: 5e-4, augment: 'crop', json: true, seed: 3 });
    expect(r.overridden).toEqual(['--epochs']);
    expect(r.commandLine).toBe('convkit train --model lenet5 --epochs 2 --batch-size 64 --weight-decay 0.0005 --augment crop --json --seed 3');
  });

  it('refuses an unknown recipe, naming the known ones', () => {
    expectConvkitError(() => applyRecipe('cifar', {}, () => false, [], table), /unknown --recipe 'cifar'; choose one of small/);
  });

  it('formats flags: kebab-case names, bare booleans, quoted odd values', () => {
    expect(flagName('labelSmoothing')).toBe('--label-smoothing');
    expect(formatFlags([['model', 'CONV5-4 -> FC10'], ['resume', true], ['json', false], ['lr', 0.1]])).toBe("--model 'CONV5-4 -> FC10' --resume --lr 0.1");
  });

  it('every recipe sets only options that convkit train has, with values of their type', () => {
    const train = trainCommand();
    const options = new Map(train.options.map((o) => [o.attributeName(), o]));
    expect(Object.keys(RECIPES)).toEqual(expect.arrayContaining(['mnist', 'fashion-mnist']));
    for (const [name, recipe] of Object.entries(RECIPES)) {
      for (const [key, value] of Object.entries(recipe.flags)) {
        expect(options.has(key), `${name}: ${key}`).toBe(true);
        const o = options.get(key)!;
        // A value option parsed by a number parser must be a number in the table, and it must parse to itself.
        const parser = (o as unknown as { parseArg?: (v: string, prev: unknown) => unknown }).parseArg;
        if (parser) expect(parser(String(value), undefined), `${name}: ${key}`).toBe(value);
      }
      // The digits are never flipped.
      if (recipe.flags['data'] === 'digits') expect(String(recipe.flags['augment'])).not.toMatch(/flip|standard|strong/);
    }
  });
});
