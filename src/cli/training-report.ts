import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ConvkitError } from '../tensor/errors.js';
import type { Module } from '../nn/module.js';
import { getBackend, listBackends, setBackend } from '../backend/registry.js';
import type { Dataset } from '../data/dataset.js';
import type { Normalization } from '../data/image/normalize.js';
import type { ModelMetadata } from '../io/model-file.js';
import { readBytes, writeBytesAtomic } from '../io/files.js';
import { deserializeCheckpoint } from '../train/checkpoint.js';
import type { EpochEvent } from '../train/progress.js';
import { reportData, type ReportData } from '../train/report-data.js';
import { reportHtml, type ReportAssets } from '../train/report-html.js';
import { normalizationTransform, savedNormalization } from './input-normalization.js';
import { loadSplit, sampleSubset } from './data-options.js';
import { CHECKPOINT_METADATA_SETTING, loadModelArg } from './model-loader.js';

/**
 * The training report on disk: `train` writes <out>/report.html when it ends, and
 * `convkit report <out>` writes it again from the folder's checkpoint (history, settings) and
 * model, reloading the test images as train drew them.
 */

export const REPORT_FILE = 'report.html';

let assets: ReportAssets | undefined;

/** uPlot's script and style, read from the installed package (the page inlines them). */
export function uplotAssets(): ReportAssets {
  if (assets) return assets;
  const require = createRequire(import.meta.url);
  let js: string;
  let css: string;
  try {
    js = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
    css = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  } catch (e) {
    throw new ConvkitError(
      `the training report draws its charts with uPlot, which is not installed here (${(e as NodeJS.ErrnoException).code ?? String(e)}); ` +
        'reinstall convkit (npm install), or install uplot next to it',
    );
  }
  return (assets = { uplotJs: js, uplotCss: css });
}

/** Writes the page for `data` to `file` atomically. */
export async function writeReportFile(file: string, data: ReportData): Promise<void> {
  const html = reportHtml(data, uplotAssets());
  await writeBytesAtomic(file, new TextEncoder().encode(html));
}

export interface TrainingReportOptions {
  /** The output folder (report.html goes there). */
  out: string;
  model: Module;
  /** The test images, before normalization. */
  test: Dataset;
  normalization: Normalization | null;
  history: readonly EpochEvent[];
  /** The run's settings (as saved in the checkpoint). */
  settings: Record<string, unknown>;
  classNames?: readonly string[];
  /** Default: this process's run time. */
  wallSeconds?: number;
  /** Says where the report went, or why there is none. */
  log?: (text: string) => void;
}

/**
 * The report at the end of a training run. A report that cannot be made (uPlot missing, a
 * model that does not give class scores) is a note, not a failed run: the model is saved.
 */
/**
 * Runs `fn`, which reads predictions and weights on the host, on a host backend (wasm, else js)
 * when the current one keeps tensors on a device (webgpu), with the model's weights brought back
 * first; the device backend is selected again afterwards.
 */
async function onHostBackend<T>(model: Module, fn: () => T): Promise<T> {
  const current = getBackend();
  if (!current.deviceMemory) return fn();
  await model.sync();
  await setBackend(listBackends().includes('wasm') ? 'wasm' : 'js');
  try {
    return fn();
  } finally {
    await setBackend(current.name);
  }
}

export async function writeTrainingReport(opts: TrainingReportOptions): Promise<string | null> {
  const file = join(opts.out, REPORT_FILE);
  try {
    const data = await onHostBackend(opts.model, () => reportData({
      model: opts.model,
      test: opts.test,
      ...(opts.normalization ? { transform: normalizationTransform(opts.normalization) } : {}),
      history: opts.history,
      settings: displayedSettings(opts.settings),
      wallSeconds: opts.wallSeconds ?? process.uptime(),
      ...(opts.classNames ? { classNames: opts.classNames } : {}),
    }));
    await writeReportFile(file, data);
  } catch (e) {
    if (!(e instanceof ConvkitError)) throw e;
    opts.log?.(`note: no training report: ${e.message}`);
    return null;
  }
  opts.log?.(`report ${file}`);
  return file;
}

/** The settings a person reads: the model metadata kept among them is for machines. */
function displayedSettings(settings: Record<string, unknown>): Record<string, unknown> {
  const { [CHECKPOINT_METADATA_SETTING]: _metadata, ...rest } = settings;
  return rest;
}

export interface RebuildOptions {
  /** Where fashion-mnist / cifar10 files are, when not in their default place. */
  dataDir?: string;
  /** How many worst images to show. */
  worst?: number;
}

/**
 * Rebuilds <out>/report.html from <out>/checkpoint.convkit (history, settings) and the weights
 * of <out>/model.convkit (else the checkpoint's), on the test images train used: the same data,
 * size, channels, --test-size subset (drawn with the run's seed) and normalization.
 */
export async function rebuildReport(out: string, opts: RebuildOptions = {}): Promise<{ file: string; data: ReportData }> {
  if (!existsSync(out)) throw new ConvkitError(`${out}: no such folder; give the --out folder of a convkit train run`);
  if (!statSync(out).isDirectory()) throw new ConvkitError(`${out} is not a folder; give the --out folder of a convkit train run (it holds checkpoint.convkit)`);
  const checkpointPath = join(out, 'checkpoint.convkit');
  if (!existsSync(checkpointPath)) throw new ConvkitError(`${out}: no checkpoint.convkit there; the report is made from a training run's checkpoint (train writes one after every epoch)`);
  const state = deserializeCheckpoint(await readBytes(checkpointPath), checkpointPath);
  const settings = (state.extra['settings'] as Record<string, unknown> | undefined) ?? {};
  const modelPath = join(out, 'model.convkit');
  const { model, metadata: loaded } = await loadModelArg(existsSync(modelPath) ? modelPath : checkpointPath);
  const metadata: ModelMetadata = { ...checkpointMetadata(settings, checkpointPath), ...loaded };
  const str = (k: string): string | undefined => (typeof settings[k] === 'string' ? (settings[k] as string) : undefined);
  const int = (k: string): number | undefined => (typeof settings[k] === 'number' ? (settings[k] as number) : undefined);
  const data = str('data') ?? (typeof metadata['trainedOn'] === 'string' ? metadata['trainedOn'] : 'digits');
  const size = int('size');
  const channels = int('channels');
  const flags = { ...(size !== undefined ? { size } : {}), ...(channels !== undefined ? { channels } : {}), ...(opts.dataDir ? { dataDir: opts.dataDir } : {}) };
  const loadedSplit = loadSplit(data, flags, {
    split: 'test',
    metadata,
    ...(metadata.inputShape && metadata['fullyConvolutional'] !== true ? { modelInput: metadata.inputShape, modelInputName: modelPath } : {}),
  });
  // The subset train scored: the same --test-size drawn with the run's seed (train draws with seed + 5).
  const seed = int('seed') ?? 0;
  const test = sampleSubset(loadedSplit.set, int('testSize'), seed + 5);
  const normalization = savedNormalization(metadata);
  const report = reportData({
    model,
    test,
    ...(normalization ? { transform: normalizationTransform(normalization) } : {}),
    history: state.history as EpochEvent[],
    settings: displayedSettings(settings),
    ...(metadata.classNames ? { classNames: metadata.classNames } : {}),
    ...(opts.worst !== undefined ? { worst: opts.worst } : {}),
  });
  const file = join(out, REPORT_FILE);
  // The wall time is known only to the run itself: kept from its report when that is of the same history.
  const wallSeconds = previousWallSeconds(file, report.history.length);
  const written = wallSeconds !== null ? { ...report, wallSeconds } : report;
  await writeReportFile(file, written);
  return { file, data: written };
}

/** The wall time in an earlier report.html of a run with `epochs` epochs, else null (any doubt: null). */
function previousWallSeconds(file: string, epochs: number): number | null {
  try {
    if (!existsSync(file)) return null;
    const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(readFileSync(file, 'utf8'));
    const old = m ? (JSON.parse(m[1]!) as Partial<ReportData>) : null;
    return old && typeof old.wallSeconds === 'number' && old.history?.length === epochs ? old.wallSeconds : null;
  } catch {
    return null;
  }
}

function checkpointMetadata(settings: Record<string, unknown>, file: string): ModelMetadata {
  const saved = settings[CHECKPOINT_METADATA_SETTING];
  if (typeof saved !== 'string') return {};
  try {
    return JSON.parse(saved) as ModelMetadata;
  } catch {
    throw new ConvkitError(`${file}: the model metadata in the checkpoint's settings is not valid JSON; the file is damaged`);
  }
}
