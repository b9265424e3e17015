/**
 * The entry of an image worker thread (see worker-pool.ts): it runs SampleTasks one after
 * another as they arrive and answers on its result port, then bumps the shared counter so that
 * a thread blocked in Atomics.wait wakes up and collects the answer.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { ConvkitError } from '../../tensor/errors.js';
import { runSampleTask, type SampleTask } from './sample-task.js';

interface Init {
  port: MessagePort;
  counter: Int32Array;
  modules: string[];
}

const { port, counter, modules } = workerData as Init;

function answer(message: unknown, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
  Atomics.add(counter, 0, 1);
  Atomics.notify(counter, 0);
}

let chain: Promise<void> = (async () => {
  for (const m of modules) await import(m);
})().catch((e: unknown) => answer({ id: -1, ok: false, error: `image worker could not load module: ${(e as Error).message}`, convkit: true }));

parentPort!.on('message', (msg: { id: number; task: SampleTask }) => {
  chain = chain.then(async () => {
    try {
      const result = await runSampleTask(msg.task);
      answer({ id: msg.id, ok: true, result }, [result.data.buffer as ArrayBuffer]);
    } catch (e) {
      answer({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e), convkit: e instanceof ConvkitError });
    }
  });
});
