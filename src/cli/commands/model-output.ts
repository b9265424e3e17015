import { noGrad } from '../../autograd/tape.js';
import type { Dataset } from '../../data/dataset.js';
import type { Module } from '../../nn/module.js';
import { ConvkitError, fmtShape } from '../../tensor/errors.js';
import { tidy } from '../../tensor/scope.js';
import { Tensor } from '../../tensor/tensor.js';

/** The shape of the model's output on one sample of `set` (a cheap probe before a long run). */
export function outputShapeOn(model: Module, set: Dataset): number[] {
  const x = new Tensor(set.get(0).input.slice(), [1, ...set.sampleShape]);
  const wasTraining = model.training;
  model.eval();
  try {
    return tidy(() => noGrad(() => [...model.forward(x).shape]));
  } finally {
    model.train(wasTraining);
  }
}

/** Refuses a model whose output is not one score per class of `set` (a converted net, a head for fewer classes). */
export function checkClassCount(model: Module, file: string, set: Dataset, data: string): void {
  const shape = outputShapeOn(model, set);
  const classes = set.classes?.length;
  if (shape.length === 4) {
    throw new ConvkitError(`${file} gives a grid of scores ${fmtShape(shape)} (a fully convolutional model from convert-fc); score images with convkit predict --dense, or evaluate the model before conversion`);
  }
  if (shape.length !== 2) throw new ConvkitError(`${file}'s output is ${fmtShape(shape)}, not class scores [N, classes]`);
  if (classes !== undefined && shape[1]! < classes) {
    throw new ConvkitError(`${file} gives ${shape[1]} class scores but ${data} has ${classes} classes; fine-tune it for them with convkit finetune ${file} --data ${data}`);
  }
}
