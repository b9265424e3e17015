// The job block: one 512-byte record in shared memory through which the main thread hands a
// kernel to the worker threads. Its layout is mirrored in src/backend/wasm/job-layout.ts.
//
// Protocol (one job at a time, only the main thread publishes):
//   main: writes kind, args, ntasks; resets NEXT and FIN; bumps GEN and notifies.
//   everyone (main included): claims task indices with an atomic add on NEXT until they run out.
//   workers: add 1 to FIN when out of tasks; main waits until FIN == the number of workers.
// Because main waits for every worker to check out before the next job, no worker can claim a
// task of a job it did not see published (no ABA on NEXT).

export const GEN: i32 = 0;
export const NEXT: i32 = 1;
export const FIN: i32 = 2;
export const NTASKS: i32 = 3;
export const KIND: i32 = 4;
export const READY: i32 = 5; // workers that have entered their loop
export const EXIT: i32 = 6;
export const SCRATCH: i32 = 7; // base of per-thread scratch (bytes)
export const SSTRIDE: i32 = 8; // bytes of scratch per thread
export const ARGS: i32 = 16; // first argument slot

// @ts-ignore: decorator
@inline export function slot(job: usize, i: i32): usize {
  return job + (<usize>i << 2);
}

// @ts-ignore: decorator
@inline export function arg(job: usize, i: i32): i32 {
  return load<i32>(job + (<usize>(ARGS + i) << 2));
}

// @ts-ignore: decorator
@inline export function argf(job: usize, i: i32): f32 {
  return load<f32>(job + (<usize>(ARGS + i) << 2));
}

/** This thread's scratch area (tid 0 is the main thread). */
// @ts-ignore: decorator
@inline export function scratch(job: usize, tid: i32): usize {
  return <usize>load<i32>(slot(job, SCRATCH)) + <usize>tid * <usize>load<i32>(slot(job, SSTRIDE));
}
