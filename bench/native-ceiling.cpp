// The native floating-point ceiling of this machine, beside bench/simd-ceiling.ts's WebAssembly
// one: GFLOP/s of single-precision fused multiply-adds from registers, 128-bit (SSE/AVX width,
// what WebAssembly SIMD maps to), 256-bit (AVX2) and 512-bit (AVX-512), on 1 thread and on every
// core. It shows what onnxruntime-node and PyTorch's oneDNN can reach here and no wasm code can.
//   g++ -O2 -march=native -pthread bench/native-ceiling.cpp -o /tmp/native-ceiling && /tmp/native-ceiling
// Never part of `npm test`.
#include <immintrin.h>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

template <typename V, typename F>
static double run(long iters, F fma) {
  // Twelve independent accumulators in registers: enough chains to keep both FMA pipes busy
  // through the instruction's latency. x and y come through volatile so nothing folds away.
  volatile float seed = 1e-7f;
  V x, y;
  for (unsigned i = 0; i < sizeof(V) / 4; i++) { ((float*)&x)[i] = seed; ((float*)&y)[i] = seed; }
  V a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x, a8 = x, a9 = x, a10 = x, a11 = x;
  auto t0 = std::chrono::steady_clock::now();
  for (long n = 0; n < iters; n++) {
    a0 = fma(x, y, a0); a1 = fma(x, y, a1); a2 = fma(x, y, a2); a3 = fma(x, y, a3);
    a4 = fma(x, y, a4); a5 = fma(x, y, a5); a6 = fma(x, y, a6); a7 = fma(x, y, a7);
    a8 = fma(x, y, a8); a9 = fma(x, y, a9); a10 = fma(x, y, a10); a11 = fma(x, y, a11);
    __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5));
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  V sum = a0;
  for (V v : {a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11}) sum = fma(x, y, v) ;
  volatile float sink = ((float*)&sum)[0];
  (void)sink;
  return 2.0 * 12 * iters * (sizeof(V) / 4) / s / 1e9;
}

template <typename V, typename F>
static void measure(const char* name, F fma) {
  const long iters = 100000000L / (sizeof(V) / 16);
  double one = run<V>(iters, fma);
  unsigned n = std::thread::hardware_concurrency();
  std::vector<double> r(n);
  std::vector<std::thread> ts;
  for (unsigned i = 0; i < n; i++) ts.emplace_back([&, i] { r[i] = run<V>(iters, fma); });
  for (auto& t : ts) t.join();
  double all = 0;
  for (double v : r) all += v;
  std::printf("%-8s 1 thread %6.1f GFLOP/s, %u threads %6.1f GFLOP/s\n", name, one, n, all);
}

int main() {
  measure<__m128>("128-bit", [](__m128 x, __m128 y, __m128 a) { return _mm_fmadd_ps(x, y, a); });
  measure<__m256>("256-bit", [](__m256 x, __m256 y, __m256 a) { return _mm256_fmadd_ps(x, y, a); });
#ifdef __AVX512F__
  measure<__m512>("512-bit", [](__m512 x, __m512 y, __m512 a) { return _mm512_fmadd_ps(x, y, a); });
#endif
}
