import * as ck from 'convkit';

/**
 * Mini-batches from a shuffled order of the training set, epoch after epoch (the last batch of
 * an epoch may be smaller). Unlike a DataLoader, whose batch size is fixed, the size is given
 * per batch, so a new batch size from the page applies from the very next step without
 * disturbing the epoch's order. The order comes from the run's seeded generator.
 */
export class BatchSampler {
  epoch = 1;
  private order: Int32Array;
  private position = 0;
  private readonly size: number;

  constructor(
    private readonly data: ck.data.ImageDataset,
    private readonly generator: ck.Generator,
  ) {
    this.size = data.sampleShape.reduce((a, b) => a * b, 1);
    this.order = this.shuffled();
  }

  private shuffled(): Int32Array {
    const order = Int32Array.from({ length: this.data.length }, (_, i) => i);
    this.generator.shuffle(order);
    return order;
  }

  /** Images of the current epoch handed out so far. */
  get seen(): number {
    return this.position;
  }

  next(batchSize: number): { x: ck.Tensor; y: ck.Tensor } {
    if (this.position >= this.order.length) {
      this.epoch++;
      this.position = 0;
      this.order = this.shuffled();
    }
    const n = Math.min(batchSize, this.order.length - this.position);
    const x = new Float32Array(n * this.size);
    const y = new Int32Array(n);
    for (let k = 0; k < n; k++) y[k] = this.data.readInto(this.order[this.position + k]!, x, k * this.size);
    this.position += n;
    return { x: ck.tensor(x, [n, ...this.data.sampleShape]), y: ck.tensor(y, [n]) };
  }
}
