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

export interface TrainerCallbacks {
  onStep?(e: StepEvent): void;
  onEpoch?(e: EpochEvent): void;
  onMessage?(text: string): void;
}
