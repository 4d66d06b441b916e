// Ring lookup: KeyHash plus Ring::PlacementFor, once per client request on
// the coordinator and once per replica message.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "common/hash.h"
#include "ring/ring.h"
#include "tools/bench/key_chooser.h"

namespace ringkv::bench {
namespace {

Ring MakeRing(int nodes, uint32_t partitions) {
  std::vector<NodeId> members;
  for (int i = 1; i <= nodes; ++i) members.push_back("node" + std::to_string(i));
  return std::move(Ring::Create(members, partitions, 3).value());
}

void BM_KeyHash(benchmark::State& state) {
  const std::string key = KeyName(12345);
  for (auto _ : state) benchmark::DoNotOptimize(KeyHash("bench", key));
}
BENCHMARK(BM_KeyHash);

// Args: nodes, partitions.
void BM_PlacementFor(benchmark::State& state) {
  const Ring ring = MakeRing(static_cast<int>(state.range(0)), static_cast<uint32_t>(state.range(1)));
  std::vector<uint64_t> hashes;
  for (int i = 0; i < 1024; ++i) hashes.push_back(KeyHash("bench", KeyName(i)));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ring.PlacementFor(hashes[i++ & 1023], 3));
  }
}
BENCHMARK(BM_PlacementFor)->Args({3, 64})->Args({8, 256})->Args({64, 1024});

}  // namespace
}  // namespace ringkv::bench
