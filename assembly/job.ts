// The job block: one 512-byte record in shared memory through which the main thread hands a
// kernel to the worker threads. Its layout is mirrored in src/backend/wasm/job-layout.ts.
//
// Protocol (one job at a time, only the main thread publishes):
//   main: writes kind, args, ntasks; resets NEXT and FIN; opens JOIN for the new generation,
//         bumps GEN and notifies.
//   workers: on a new GEN, join by incrementing JOIN's count while it is open for that GEN.
//   everyone joined (main included): claims task indices with an atomic add on NEXT.
//   main, out of tasks: closes JOIN (no more joins) and waits until FIN == the joined count;
//   joined workers add 1 to FIN when out of tasks.
// A worker can only claim tasks of a job it joined, and main returns only after every joined
// worker checked out, so no task of one job runs during the next; a worker that is asleep or
// descheduled simply misses the job instead of holding it up.

export const GEN: i32 = 0;
export const NEXT: i32 = 1;
export const FIN: i32 = 2;
export const NTASKS: i32 = 3;
export const KIND: i32 = 4;
export const READY: i32 = 5; // workers that have entered their loop
export const EXIT: i32 = 6;
export const SCRATCH: i32 = 7; // base of per-thread scratch (bytes)
export const SSTRIDE: i32 = 8; // bytes of scratch per thread
export const DEAD: i32 = 9; // set by a worker that failed (src/backend/wasm/pool.ts)
export const JOIN: i32 = 10; // generation | closed | workers that joined (index.ts)
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

/** A float64 argument in slots i and i + 1. */
// @ts-ignore: decorator
@inline export function argf64(job: usize, i: i32): f64 {
  return load<f64>(job + (<usize>(ARGS + i) << 2));
}

/** This thread's scratch area (tid 0 is the main thread). */
// @ts-ignore: decorator
@inline export function scratch(job: usize, tid: i32): usize {
  return <usize>load<i32>(slot(job, SCRATCH)) + <usize>tid * <usize>load<i32>(slot(job, SSTRIDE));
}
