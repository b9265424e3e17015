import { decodeModel, encodeModel, type ModelProto, type StringStringEntryProto } from '../io/onnx/proto.js';
import { exportOnnx, type ExportOnnxOptions } from '../io/onnx/export/index.js';
import { writeBytesAtomic } from '../io/files.js';
import type { Module } from '../nn/module.js';
import type { ModelMetadata } from '../io/model-file.js';

/**
 * A convkit model's metadata (input shape, class names, how its images were prepared and
 * normalized) carried through ONNX in the file's metadata_props, so that `eval`, `predict` and
 * `finetune` treat an exported or fine-tuned .onnx file as they treat the .convkit model it
 * came from. Other tools ignore the entry.
 */

const KEY = 'convkit.metadata';

type ProtoWithProps = ModelProto & { metadata_props?: StringStringEntryProto[] };

/** The metadata an ONNX file's bytes carry ({} for a file from another tool, or unreadable JSON). */
export function onnxMetadata(bytes: Uint8Array, what: string): ModelMetadata {
  const proto = decodeModel(bytes, what) as ProtoWithProps;
  const entry = proto.metadata_props?.find((p) => p.key === KEY);
  if (!entry) return {};
  try {
    const value = JSON.parse(entry.value) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as ModelMetadata) : {};
  } catch {
    return {};
  }
}

/** Writes `model` as ONNX with `metadata` stored beside the graph. */
export async function saveOnnxWithMetadata(model: Module, path: string, opts: ExportOnnxOptions, metadata: ModelMetadata): Promise<Uint8Array> {
  const proto = decodeModel(exportOnnx(model, opts), path) as ProtoWithProps;
  proto.metadata_props = [...(proto.metadata_props ?? []).filter((p) => p.key !== KEY), { key: KEY, value: JSON.stringify(metadata) }];
  const encoded = encodeModel(proto);
  const bytes = encoded.constructor === Uint8Array ? encoded : new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  await writeBytesAtomic(path, bytes);
  return bytes;
}
