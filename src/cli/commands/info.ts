import type { Command } from 'commander';
import { readBytes } from '../../io/files.js';
import { containerKind } from '../../io/container.js';
import { existsSync } from 'node:fs';
import { loadModelArg } from '../model-loader.js';
import type { OnnxModel } from '../../io/onnx/onnx-model.js';
import { deserializeCheckpoint } from '../../train/checkpoint.js';
import type { EpochEvent } from '../../train/progress.js';
import { action } from '../run.js';
import { fusedPlan, renderFusedPlan } from '../fused-plan.js';

export function registerInfo(program: Command): void {
  program
    .command('info <model>')
    .description('architecture, parameter count and metadata of a model (.convkit, .onnx or a zoo name), or the state of a training checkpoint')
    .option('--json', 'print one JSON object')
    .option('--fused', 'also show the inference plan predict and eval run: which layers are fused, where activations are freed')
    .action(
      action(async (file: string, flags: { json?: boolean; fused?: boolean }) => {
        if (existsSync(file)) {
          const bytes = await readBytes(file);
          if (containerKind(bytes) === 'checkpoint') return checkpointInfo(file, bytes, flags.json ?? false);
        }
        const { model, metadata, kind } = await loadModelArg(file, { zoo: {} });
        const params = model.namedParameters().map(([name, p]) => ({ name, shape: [...p.shape], count: p.size }));
        const total = params.reduce((s, p) => s + p.count, 0);
        if (flags.json) {
          // An ONNX graph's config is the whole file in base64: its node list says more.
          const architecture = kind === 'onnx' ? { type: 'OnnxModel', nodes: (model as OnnxModel).nodes() } : model.getConfig();
          const plan = flags.fused ? { fusedPlan: fusedPlan(model) } : {};
          process.stdout.write(`${JSON.stringify({ file, kind, parameters: total, tensors: params, metadata, architecture, ...plan })}\n`);
          return;
        }
        process.stdout.write(`${file} (${kind === 'zoo' ? 'zoo model, fresh weights' : kind === 'onnx' ? 'ONNX model' : 'convkit model'})\n${model.toString()}\n`);
        process.stdout.write(`parameters: ${total.toLocaleString('en-US')} in ${params.length} tensors\n`);
        for (const [k, v] of Object.entries(metadata)) process.stdout.write(`${k}: ${JSON.stringify(v)}\n`);
        if (flags.fused) process.stdout.write(`${renderFusedPlan(fusedPlan(model))}\n`);
      }),
    );
}

/** What a checkpoint holds: how far training got, with which settings, and the history. */
function checkpointInfo(file: string, bytes: Uint8Array, json: boolean): void {
  const state = deserializeCheckpoint(bytes, file);
  const settings = (state.extra['settings'] as Record<string, unknown> | undefined) ?? {};
  const history = state.history as EpochEvent[];
  const parameters = [...state.model.values()].reduce((s, t) => s + t.size, 0);
  if (json) {
    process.stdout.write(`${JSON.stringify({ file, kind: 'checkpoint', epoch: state.epoch, parameters, settings, history, architecture: state.architecture })}\n`);
    return;
  }
  process.stdout.write(`${file}: training checkpoint after epoch ${state.epoch} (${parameters.toLocaleString('en-US')} parameters)\n`);
  for (const [k, v] of Object.entries(settings)) process.stdout.write(`${k}: ${JSON.stringify(v)}\n`);
  for (const e of history) {
    const val = e.valAccuracy !== undefined ? `  val_acc ${(e.valAccuracy * 100).toFixed(2)}%` : '';
    process.stdout.write(`epoch ${e.epoch}: loss ${e.trainLoss.toFixed(4)}  acc ${(e.trainAccuracy * 100).toFixed(2)}%${val}\n`);
  }
}
