// convkit's WebAssembly kernels: entry points called from src/backend/wasm.
//
// Every kernel is a job of independent tasks (job.ts). `run` is called by the main thread;
// `workerLoop` by each worker thread, on the same shared memory. A task kind selects the
// routine; its arguments are read from the job block.
import { ARGS, EXIT, FIN, GEN, JOIN, KIND, NEXT, NTASKS, READY, scratch, slot } from './job';
import { gemmTask, GEMM_SCRATCH } from './gemm';
import { col2imPhaseTask, col2imTask } from './col2im';
import { filterTask, flatTask, inputFlatTask, winogradTask } from './winograd-f23';
import { banded6Task, filter6Task, flat6Task, inputFlat6Task, F25, F43, F45 } from './winograd-f43';
import { winogradFilterGradTask, F23 } from './winogradgrad';
import { denseBandedTask, denseFilterTask, denseTask, inputDenseTask } from './winograd-dense';
import { flipTask } from './flip';
import { eltTask } from './elementwise';
import { gemvTask, smallDotTask, smallMatmulTask } from './gemv';
import { directConvTask, directFilterTask } from './direct';
import { dwConvTask, dwInputTask } from './depthwise';
import { dwFilterTask } from './depthwise-filter';
import { dwLanesFilterTask, dwLanesInputTask, dwLanesTask } from './depthwise-lanes';
import { dilMergeTask, dilSplitTask, phaseTask } from './phase';
import { batchNormTask, channelSumTask } from './planes';
import { bnGradApplyTask, bnGradCoefTask, bnGradPartTask, bnStatsFinishTask, bnStatsPartTask, bnStatsShiftTask } from './bn-chunks';
import { softmaxTask } from './softmax';
import { nllTask } from './nll';
import { unaryTask } from './unary';
import { broadcastTask } from './broadcast';
import { reduceTask } from './reduce';
import { avgPoolGradTask, avgPoolTask, maxPoolGradTask, maxPoolTask, maxPoolValuesTask } from './pool';
import { lrnGradTask, lrnTask } from './lrn';
import { clampGradTask, clampTask, preluGradTask, preluTask, softplusGradTask, softplusTask } from './activations';
import { padGradTask, padTask } from './pad';
import { gatherTask } from './gather';
import { argMaxTask, topKTask } from './topk';
import { multiMarginGradTask, multiMarginTask } from './multi-margin';
import { adaptiveMaxPoolTask } from './adaptive-max-pool';
import { lcFilterTask, lcForwardTask, lcInputTask } from './locally-connected';
import { adamTask, sgdTask } from './optim';
import { reluGradSumTask } from './relu-grad-sum';
import { batchColsTask } from './pack-multi';

export const KIND_GEMM = 1;
export const KIND_COL2IM = 2;
export const KIND_WINOGRAD_F23_BANDED = 3;
export const KIND_WINOGRAD_F23_FILTER = 4;
export const KIND_ELEMENTWISE = 5;
export const KIND_GEMV = 6;
export const KIND_MAXPOOL = 7;
export const KIND_MAXPOOL_GRAD = 8;
export const KIND_BATCHNORM = 9;
export const KIND_CHANNEL_SUM = 10;
export const KIND_MAXPOOL_VALUES = 11;
export const KIND_AVGPOOL = 12;
export const KIND_AVGPOOL_GRAD = 13;
export const KIND_LRN = 14;
export const KIND_LRN_GRAD = 19;
export const KIND_DIRECT_CONV = 15;
export const KIND_DIRECT_FILTER = 16;
export const KIND_WINOGRAD_F23_INPUT = 21;
export const KIND_WINOGRAD_F23_FLAT = 22;
export const KIND_PHASES = 23;
export const KIND_COL2IM_PHASE = 24;
export const KIND_WINOGRAD_F43_INPUT = 27;
export const KIND_WINOGRAD_F43_FLAT = 28;
export const KIND_WINOGRAD_F25_INPUT = 29;
export const KIND_WINOGRAD_F25_FLAT = 30;
export const KIND_WINOGRAD_F43_FILTER = 31;
export const KIND_WINOGRAD_F43_BANDED = 32;
export const KIND_WINOGRAD_F25_FILTER = 33;
export const KIND_WINOGRAD_F25_BANDED = 34;
export const KIND_WINOGRAD_F25_FILTER_GRAD = 35;
export const KIND_WINOGRAD_F45_INPUT = 36;
export const KIND_WINOGRAD_F45_FLAT = 37;
export const KIND_WINOGRAD_F45_FILTER = 38;
export const KIND_WINOGRAD_F45_BANDED = 39;
export const KIND_WINOGRAD_F45_FILTER_GRAD = 40;
export const KIND_CLAMP = 65;
export const KIND_CLAMP_GRAD = 66;
export const KIND_SOFTPLUS = 67;
export const KIND_SOFTPLUS_GRAD = 68;
export const KIND_PRELU = 69;
export const KIND_PRELU_GRAD = 70;
export const KIND_PAD = 71;
export const KIND_PAD_GRAD = 72;
export const KIND_GATHER = 73;
export const KIND_ARGMAX = 74;
export const KIND_TOPK = 75;
export const KIND_MULTI_MARGIN = 76;
export const KIND_MULTI_MARGIN_GRAD = 77;
export const KIND_ADAPTIVE_MAXPOOL = 78;
export const KIND_LC_FORWARD = 79;
export const KIND_LC_INPUT = 80;
export const KIND_LC_FILTER = 81;
export const KIND_SOFTMAX = 57;
export const KIND_NLL = 58;
export const KIND_UNARY = 59;
export const KIND_BROADCAST = 60;
export const KIND_REDUCE = 61;
export const KIND_DW_CONV = 50;
export const KIND_DW_INPUT = 51;
export const KIND_DW_FILTER = 52;
export const KIND_DW_LANES = 53;
export const KIND_DW_LANES_FILTER = 54;
export const KIND_DW_LANES_INPUT = 55;
export const KIND_WINOGRAD_F23_FILTER_GRAD = 41;
export const KIND_WINOGRAD_F43_FILTER_GRAD = 42;
export const KIND_FLIP_FILTERS = 43;
export const KIND_WINOGRAD_DENSE_INPUT = 100;
export const KIND_WINOGRAD_DENSE = 101;
export const KIND_WINOGRAD_DENSE_FILTER = 141;
export const KIND_WINOGRAD_DENSE_BANDED = 142;
export const KIND_SGD = 91;
export const KIND_ADAM = 92;
export const KIND_DIL_SPLIT = 120;
export const KIND_DIL_MERGE = 121;
export const KIND_RELU_GRAD_SUM = 130;
export const KIND_BATCH_COLS = 140;
export const KIND_BN_STATS_PART = 170;
export const KIND_BN_STATS_FINISH = 171;
export const KIND_BN_GRAD_PART = 172;
export const KIND_BN_GRAD_APPLY = 173;
export const KIND_BN_STATS_SHIFT = 174;
export const KIND_BN_GRAD_COEF = 175;
export const KIND_SMALL_MATMUL = 180;
export const KIND_SMALL_DOT = 181;

/** Bumped whenever a job layout changes; the loader refuses a kernels.wasm of another version. */
export function abiVersion(): i32 {
  return 20;
}

/** Bytes of per-thread scratch the GEMM needs. */
export function gemmScratch(): i32 {
  return GEMM_SCRATCH;
}

export function argsOffset(): i32 {
  return ARGS << 2;
}

function dispatch(job: usize, kind: i32, t: i32, tid: i32): void {
  switch (kind) {
    case KIND_GEMM: gemmTask(job, t, tid); break;
    case KIND_COL2IM: col2imTask(job, t, tid); break;
    case KIND_WINOGRAD_F23_BANDED: winogradTask(job, t, scratch(job, tid)); break;
    case KIND_WINOGRAD_F23_FILTER: filterTask(job, t); break;
    case KIND_WINOGRAD_F23_INPUT: inputFlatTask(job, t, scratch(job, tid)); break;
    case KIND_WINOGRAD_F23_FLAT: flatTask(job, t, scratch(job, tid)); break;
    case KIND_WINOGRAD_F43_INPUT: inputFlat6Task(job, t, scratch(job, tid), F43); break;
    case KIND_WINOGRAD_F43_FLAT: flat6Task(job, t, scratch(job, tid), F43); break;
    case KIND_WINOGRAD_F25_INPUT: inputFlat6Task(job, t, scratch(job, tid), F25); break;
    case KIND_WINOGRAD_F25_FLAT: flat6Task(job, t, scratch(job, tid), F25); break;
    case KIND_WINOGRAD_F43_FILTER: filter6Task(job, t, scratch(job, tid), F43); break;
    case KIND_WINOGRAD_F43_BANDED: banded6Task(job, t, scratch(job, tid), F43); break;
    case KIND_WINOGRAD_F25_FILTER: filter6Task(job, t, scratch(job, tid), F25); break;
    case KIND_WINOGRAD_F25_BANDED: banded6Task(job, t, scratch(job, tid), F25); break;
    case KIND_WINOGRAD_F45_INPUT: inputFlat6Task(job, t, scratch(job, tid), F45); break;
    case KIND_WINOGRAD_F45_FLAT: flat6Task(job, t, scratch(job, tid), F45); break;
    case KIND_WINOGRAD_F45_FILTER: filter6Task(job, t, scratch(job, tid), F45); break;
    case KIND_WINOGRAD_F45_BANDED: banded6Task(job, t, scratch(job, tid), F45); break;
    case KIND_WINOGRAD_F25_FILTER_GRAD: winogradFilterGradTask(job, t, scratch(job, tid), F25); break;
    case KIND_WINOGRAD_F45_FILTER_GRAD: winogradFilterGradTask(job, t, scratch(job, tid), F45); break;
    case KIND_WINOGRAD_F23_FILTER_GRAD: winogradFilterGradTask(job, t, scratch(job, tid), F23); break;
    case KIND_WINOGRAD_F43_FILTER_GRAD: winogradFilterGradTask(job, t, scratch(job, tid), F43); break;
    case KIND_FLIP_FILTERS: flipTask(job, t); break;
    case KIND_ELEMENTWISE: eltTask(job, t); break;
    case KIND_GEMV: gemvTask(job, t); break;
    case KIND_MAXPOOL: maxPoolTask(job, t); break;
    case KIND_MAXPOOL_GRAD: maxPoolGradTask(job, t); break;
    case KIND_BATCHNORM: batchNormTask(job, t); break;
    case KIND_CHANNEL_SUM: channelSumTask(job, t); break;
    case KIND_MAXPOOL_VALUES: maxPoolValuesTask(job, t); break;
    case KIND_AVGPOOL: avgPoolTask(job, t); break;
    case KIND_AVGPOOL_GRAD: avgPoolGradTask(job, t); break;
    case KIND_LRN: lrnTask(job, t); break;
    case KIND_LRN_GRAD: lrnGradTask(job, t); break;
    case KIND_DIRECT_CONV: directConvTask(job, t, tid); break;
    case KIND_DIRECT_FILTER: directFilterTask(job, t, tid); break;
    case KIND_PHASES: phaseTask(job, t); break;
    case KIND_DIL_SPLIT: dilSplitTask(job, t); break;
    case KIND_DIL_MERGE: dilMergeTask(job, t); break;
    case KIND_COL2IM_PHASE: col2imPhaseTask(job, t, tid); break;
    case KIND_CLAMP: clampTask(job, t); break;
    case KIND_CLAMP_GRAD: clampGradTask(job, t); break;
    case KIND_SOFTPLUS: softplusTask(job, t); break;
    case KIND_SOFTPLUS_GRAD: softplusGradTask(job, t); break;
    case KIND_PRELU: preluTask(job, t); break;
    case KIND_PRELU_GRAD: preluGradTask(job, t); break;
    case KIND_PAD: padTask(job, t); break;
    case KIND_PAD_GRAD: padGradTask(job, t); break;
    case KIND_GATHER: gatherTask(job, t, scratch(job, tid)); break;
    case KIND_ARGMAX: argMaxTask(job, t); break;
    case KIND_TOPK: topKTask(job, t, scratch(job, tid)); break;
    case KIND_MULTI_MARGIN: multiMarginTask(job, t); break;
    case KIND_MULTI_MARGIN_GRAD: multiMarginGradTask(job, t); break;
    case KIND_ADAPTIVE_MAXPOOL: adaptiveMaxPoolTask(job, t); break;
    case KIND_LC_FORWARD: lcForwardTask(job, t, scratch(job, tid)); break;
    case KIND_LC_INPUT: lcInputTask(job, t, scratch(job, tid)); break;
    case KIND_LC_FILTER: lcFilterTask(job, t, scratch(job, tid)); break;
    case KIND_SOFTMAX: softmaxTask(job, t); break;
    case KIND_NLL: nllTask(job, t); break;
    case KIND_UNARY: unaryTask(job, t); break;
    case KIND_BROADCAST: broadcastTask(job, t); break;
    case KIND_REDUCE: reduceTask(job, t, scratch(job, tid)); break;
    case KIND_DW_CONV: dwConvTask(job, t, tid); break;
    case KIND_DW_INPUT: dwInputTask(job, t, tid); break;
    case KIND_DW_FILTER: dwFilterTask(job, t, tid); break;
    case KIND_DW_LANES: dwLanesTask(job, t, tid); break;
    case KIND_DW_LANES_FILTER: dwLanesFilterTask(job, t, tid); break;
    case KIND_DW_LANES_INPUT: dwLanesInputTask(job, t, tid); break;
    case KIND_WINOGRAD_DENSE_INPUT: inputDenseTask(job, t, scratch(job, tid)); break;
    case KIND_WINOGRAD_DENSE: denseTask(job, t, scratch(job, tid)); break;
    case KIND_WINOGRAD_DENSE_FILTER: denseFilterTask(job, t, scratch(job, tid)); break;
    case KIND_WINOGRAD_DENSE_BANDED: denseBandedTask(job, t, scratch(job, tid)); break;
    case KIND_SGD: sgdTask(job, t); break;
    case KIND_ADAM: adamTask(job, t); break;
    case KIND_RELU_GRAD_SUM: reluGradSumTask(job, t); break;
    case KIND_BATCH_COLS: batchColsTask(job, t); break;
    case KIND_BN_STATS_PART: bnStatsPartTask(job, t); break;
    case KIND_BN_STATS_FINISH: bnStatsFinishTask(job, t); break;
    case KIND_BN_GRAD_PART: bnGradPartTask(job, t); break;
    case KIND_BN_GRAD_APPLY: bnGradApplyTask(job, t); break;
    case KIND_BN_STATS_SHIFT: bnStatsShiftTask(job, t); break;
    case KIND_BN_GRAD_COEF: bnGradCoefTask(job, t); break;
    case KIND_SMALL_MATMUL: smallMatmulTask(job, t); break;
    case KIND_SMALL_DOT: smallDotTask(job, t); break;
    default: unreachable();
  }
}

function work(job: usize, tid: i32): void {
  const kind = load<i32>(slot(job, KIND));
  const n = load<i32>(slot(job, NTASKS));
  // Guided self-scheduling: a claim takes a sixteenth of the tasks left (at least one), so a
  // job of thousands of small tasks (depthwise planes of 5 x 5 outputs) costs a few dozen
  // contended atomic operations rather than one per task (each ~0.3 us between two cores,
  // more than such a task's work), and the last claims are single tasks that even out the
  // threads. Which thread runs which task never changes a result: tasks write their own outputs.
  let t0 = atomic.load<i32>(slot(job, NEXT));
  while (t0 < n) {
    const take = max(1, (n - t0) >> 4);
    const seen = atomic.cmpxchg<i32>(slot(job, NEXT), t0, t0 + take);
    if (seen != t0) { t0 = seen; continue; }
    const t1 = t0 + take;
    for (let t = t0; t < t1; t++) dispatch(job, kind, t, tid);
    t0 = atomic.load<i32>(slot(job, NEXT));
  }
}

// Busy-wait this many polls (about a millisecond) before sleeping: waking a sleeping thread
// costs tens of microseconds, more than many kernels of a small network take, so the JavaScript
// between two kernels must not put the worker to sleep; a much longer spin (OpenMP spins for
// 200 ms) would keep the core from other work on a busy machine. BENCHMARKS.md has the figures.
const SPIN: i32 = 400000;

// JOIN word: job generation (high 16 bits), closed flag, number of workers that joined.
const CLOSED: i32 = 0x8000;

/**
 * Runs `ntasks` tasks of `kind` on this thread, helped by those of `workers` worker threads
 * that wake up in time: a worker joins the job only while it is open, and the job closes
 * when this thread runs out of tasks, so a descheduled worker never holds it up.
 */
export function run(job: usize, kind: i32, ntasks: i32, workers: i32): void {
  store<i32>(slot(job, KIND), kind);
  store<i32>(slot(job, NTASKS), ntasks);
  if (!ASC_FEATURE_THREADS) {
    // The single-threaded build (no shared memory): a plain loop.
    for (let t = 0; t < ntasks; t++) dispatch(job, kind, t, 0);
    return;
  }
  atomic.store<i32>(slot(job, NEXT), 0);
  atomic.store<i32>(slot(job, FIN), 0);
  if (workers > 0) {
    const g = (atomic.load<i32>(slot(job, GEN)) + 1) & 0xffff;
    atomic.store<i32>(slot(job, JOIN), g << 16);
    atomic.store<i32>(slot(job, GEN), g);
    atomic.notify(slot(job, GEN), workers);
  }
  work(job, 0);
  if (workers > 0) {
    let j = atomic.load<i32>(slot(job, JOIN));
    while (atomic.cmpxchg<i32>(slot(job, JOIN), j, j | CLOSED) != j) j = atomic.load<i32>(slot(job, JOIN));
    const joined = j & (CLOSED - 1);
    let spins = 0;
    while (true) {
      const f = atomic.load<i32>(slot(job, FIN));
      if (f >= joined) break;
      if (++spins > SPIN) memory.atomic.wait32(slot(job, FIN), f, 1000000);
    }
  }
}

/** A worker thread's life: wait for a new generation, join it if still open, help, check out. */
export function workerLoop(job: usize, tid: i32): void {
  if (!ASC_FEATURE_THREADS) return;
  let seen = atomic.load<i32>(slot(job, GEN));
  atomic.add<i32>(slot(job, READY), 1);
  while (true) {
    let g = atomic.load<i32>(slot(job, GEN));
    let spins = 0;
    while (g == seen) {
      if (++spins > SPIN) { memory.atomic.wait32(slot(job, GEN), seen, -1); spins = 0; }
      g = atomic.load<i32>(slot(job, GEN));
    }
    seen = g;
    if (atomic.load<i32>(slot(job, EXIT))) return;
    let joined = false;
    while (true) {
      const j = atomic.load<i32>(slot(job, JOIN));
      if (<u32>j >> 16 != <u32>g || (j & CLOSED) != 0) break; // closed, or already the next job
      if (atomic.cmpxchg<i32>(slot(job, JOIN), j, j + 1) == j) { joined = true; break; }
    }
    if (!joined) continue;
    work(job, tid);
    atomic.add<i32>(slot(job, FIN), 1);
    atomic.notify(slot(job, FIN), 1);
  }
}
