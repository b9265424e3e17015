// Train a small ConvNet on your own images, one sub-folder per class:
//
//   photos/cat/001.jpg, photos/cat/002.png, ..., photos/dog/xyz.jpg, ...
//   node examples/train-folder.mjs photos --epochs 10 --size 64 --out pets.convkit
//
// Every fifth image of each class is held out for testing. The model file keeps the class
// names and the input pipeline, so `node examples/predict-image.mjs pets.convkit some.jpg` (or
// `npx convkit predict pets.convkit some.jpg`) preprocesses new images the same way.
import { parseArgs } from 'node:util';
import * as ck from 'convkit/node';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    epochs: { type: 'string', default: '5' },
    size: { type: 'string', default: '32' },
    batch: { type: 'string', default: '16' },
    out: { type: 'string', default: 'model.convkit' },
    seed: { type: 'string', default: '1' },
  },
});
const root = positionals[0];
if (!root) {
  console.error('usage: node examples/train-folder.mjs <image-folder> [--epochs N] [--size S] [--batch B] [--out model.convkit]');
  process.exit(2);
}
const size = Number(values.size);
const epochs = Number(values.epochs);
ck.manualSeed(Number(values.seed));

// Decoded once (on worker threads), cropped to a square and scaled to size x size, RGB in [0, 1].
const preprocess = { size, channels: 3, aspect: 'crop' };
const train = new ck.data.ImageFolder(root, { ...preprocess, holdout: { part: 'train', fraction: 0.2 } });
const test = new ck.data.ImageFolder(root, { ...preprocess, holdout: { part: 'test', fraction: 0.2 } });
const classes = train.classes;
console.log(`${train.length} training and ${test.length} test images of ${classes.length} classes: ${classes.join(', ')}`);

// Two CONV-RELU-POOL blocks and a classifier; the shapes are checked as the layers are built.
const { nn } = ck;
const model = new nn.Sequential(
  new nn.Conv2d(3, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Conv2d(16, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Flatten(), new nn.Linear(32 * (size / 4) * (size / 4), classes.length),
);

// Augmentation runs in the loader (random flips here), on worker threads.
const loader = new ck.data.ImageLoader(train, {
  batchSize: Number(values.batch),
  shuffle: true,
  augment: new ck.data.image.RandomHorizontalFlip(),
});
const trainer = new ck.train.Trainer(model, {
  train: loader,
  validation: new ck.data.DataLoader(test, { batchSize: 64 }),
  optimizer: new ck.optim.Adam(model.parameters(), { lr: 1e-3 }),
  epochs,
  callbacks: {
    onEpoch: (e) =>
      console.log(`epoch ${e.epoch}/${e.epochs}: loss ${e.trainLoss.toFixed(3)}, train ${(100 * e.trainAccuracy).toFixed(1)}%` +
        (e.valAccuracy !== undefined ? `, test ${(100 * e.valAccuracy).toFixed(1)}%` : '')),
  },
});
await trainer.fit();

const pipeline = new ck.data.image.InputPipeline(preprocess);
await model.save(values.out, { classes, inputShape: [3, size, size], inputPipeline: pipeline.toJSON() });
console.log(`saved ${values.out}`);
