import { ConvkitError } from '../tensor/errors.js';
import type { Module, ModuleConfig } from './module.js';

/**
 * Layer names -> classes, so that a saved architecture (JSON of `getConfig()`) can be rebuilt.
 * Built-in layers register themselves; custom layers call `ck.nn.register('MyBlock', MyBlock)`.
 * A class may define `static fromConfig(args)`; otherwise it is built as `new Class(...args)`.
 */
type ModuleClass = (new (...args: never[]) => Module) & { fromConfig?: (args: unknown[]) => Module };

const classes = new Map<string, ModuleClass>();
/** The other way round: a bundler that renames classes (minification) must not rename layers. */
const names = new Map<unknown, string>();

/** Registers a layer class under `name`, so that saved models naming it can be rebuilt. */
export function register(name: string, cls: ModuleClass): void {
  classes.set(name, cls);
  if (!names.has(cls)) names.set(cls, name);
}

/** The name a layer class was registered under (undefined for unregistered classes). */
export function registeredName(cls: unknown): string | undefined {
  return names.get(cls);
}

/** The registered layer names, sorted. */
export function registeredLayers(): string[] {
  return [...classes.keys()].sort();
}

/** Builds a module from a `getConfig()` description (registered names only). */
export function fromConfig(config: ModuleConfig): Module {
  if (!config || typeof config !== 'object' || typeof config.type !== 'string' || !Array.isArray(config.args)) {
    throw new ConvkitError(`invalid layer description ${JSON.stringify(config)?.slice(0, 200)}: expected {type, args}`);
  }
  const cls = classes.get(config.type);
  if (!cls) {
    throw new ConvkitError(
      `unknown layer type '${config.type}'; register custom layers with ck.nn.register('${config.type}', ${config.type}) before loading (known: ${registeredLayers().join(', ')})`,
    );
  }
  if (cls.fromConfig) return cls.fromConfig(config.args);
  return new cls(...(config.args as never[]));
}
