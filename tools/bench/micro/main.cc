// ringkv-micro: the Google Benchmark micro-benchmarks of ringkv's hot paths
// (*_bench.cc in this directory). Build in release mode before reading the
// figures (`make bench` does; build-release/tools/bench/micro/ringkv-micro).
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
