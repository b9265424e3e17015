/**
 * What the Trainer tells the outside world. The CLI turns these events into a live bar
 * (TTY), one plain line per epoch (logs), or JSON lines (--json); library users can pass
 * their own callbacks.
 */
export interface StepEvent {
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number;
  loss: number;
  accuracy: number;
  imagesPerSecond: number;
  lr: number;
}

/** Sent after every epoch, with the epoch's training and validation figures. */
export interface EpochEvent {
  epoch: number;
  epochs: number;
  trainLoss: number;
  trainAccuracy: number;
  trainTop5: number;
  valLoss?: number;
  valAccuracy?: number;
  valTop5?: number;
  lr: number;
  seconds: number;
  imagesPerSecond: number;
}

/** The Trainer's progress callbacks, each optional. */
export interface TrainerCallbacks {
  /** After every training step. */
  onStep?(e: StepEvent): void;
  /** After every epoch. */
  onEpoch?(e: EpochEvent): void;
  /** A line of text (resume, early stop, checkpoint notes). */
  onMessage?(text: string): void;
}
