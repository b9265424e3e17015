/** `ck.nn`: layers as classes with PyTorch's argument order and camelCased options. */
export { Module, type ForwardHook, type HookHandle, type ModuleConfig } from './module.js';
export { Parameter } from './parameter.js';
export { Sequential } from './sequential.js';
export { register, fromConfig, registeredLayers } from './registry.js';
export * as init from './init.js';
