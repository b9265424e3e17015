import cliProgress from 'cli-progress';
import type { EpochEvent, StepEvent, TrainerCallbacks } from '../train/progress.js';

const pct = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : `${(v * 100).toFixed(2)}%`);

/**
 * Turns trainer events into output: a live bar on a TTY, one plain line per epoch otherwise
 * (CI logs stay readable), or one JSON object per line with --json.
 */
export function progressView(mode: 'auto' | 'json' | 'plain', stream: NodeJS.WriteStream = process.stdout): TrainerCallbacks & { stop(): void } {
  if (mode === 'json') {
    const write = (o: object) => stream.write(`${JSON.stringify(o)}\n`);
    return {
      onEpoch: (e) => write({ event: 'epoch', ...e }),
      onMessage: (text) => write({ event: 'message', text }),
      stop() {},
    };
  }
  const line = (e: EpochEvent) =>
    `epoch ${e.epoch}/${e.epochs}  loss ${e.trainLoss.toFixed(4)}  acc ${pct(e.trainAccuracy)}` +
    (e.valLoss !== undefined ? `  val_loss ${e.valLoss.toFixed(4)}  val_acc ${pct(e.valAccuracy)}` : '') +
    `  lr ${e.lr.toPrecision(3)}  ${e.imagesPerSecond.toFixed(0)} img/s  ${e.seconds.toFixed(1)}s`;
  if (mode === 'plain' || !stream.isTTY) {
    return {
      onEpoch: (e) => stream.write(`${line(e)}\n`),
      onMessage: (text) => stream.write(`${text}\n`),
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: 'epoch {epoch}/{epochs} |{bar}| {value}/{total} steps  loss {loss}  acc {acc}  {ips} img/s  ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
      stream,
    },
    cliProgress.Presets.shades_classic,
  );
  let active = false;
  return {
    onStep(e: StepEvent) {
      const payload = { epoch: e.epoch, epochs: e.epochs, loss: e.loss.toFixed(4), acc: pct(e.accuracy), ips: e.imagesPerSecond.toFixed(0) };
      if (!active) {
        bar.start(e.stepsPerEpoch, e.step, payload);
        active = true;
      } else bar.update(e.step, payload);
    },
    onEpoch(e) {
      if (active) bar.stop();
      active = false;
      stream.write(`${line(e)}\n`);
    },
    onMessage(text) {
      // Over the bar's line (cleared first); the bar redraws itself at the next step.
      stream.write(active ? `\r\x1b[K${text}\n` : `${text}\n`);
    },
    stop() {
      if (active) bar.stop();
      active = false;
    },
  };
}
