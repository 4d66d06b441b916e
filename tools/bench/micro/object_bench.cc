// Version-vector merge (Sync of two replicas' objects, as in read repair and
// replica puts) and Update (the coordinator's write path).
#include <benchmark/benchmark.h>

#include <string>

#include "causality/object.h"

namespace ringkv::bench {
namespace {

Actor NodeActor(int i) { return Actor{"node" + std::to_string(i), 1}; }

// An object written `writes` times by rotating coordinators among `actors`,
// each write seeing the previous one (one sibling, `actors` context entries).
Object Written(int actors, int writes, const std::string& value) {
  Object o;
  for (int i = 0; i < writes; ++i) {
    o = Update(std::move(o), o.context, NodeActor(i % actors), 1000 + i, false, value);
  }
  return o;
}

void BM_SyncDivergedReplicas(benchmark::State& state) {
  const int actors = static_cast<int>(state.range(0));
  const std::string value(100, 'v');
  const Object base = Written(actors, actors * 2, value);
  // Two concurrent writes on top of a common history: two siblings after Sync.
  const Object a = Update(base, base.context, NodeActor(0), 5000, false, value);
  const Object b = Update(base, base.context, NodeActor(1), 5001, false, value);
  for (auto _ : state) benchmark::DoNotOptimize(Sync(a, b));
}
BENCHMARK(BM_SyncDivergedReplicas)->Arg(3)->Arg(8);

void BM_SyncEqualReplicas(benchmark::State& state) {
  const Object a = Written(3, 6, std::string(100, 'v'));
  for (auto _ : state) benchmark::DoNotOptimize(Sync(a, a));
}
BENCHMARK(BM_SyncEqualReplicas);

void BM_UpdateWithContext(benchmark::State& state) {
  const std::string value(100, 'v');
  const Object base = Written(3, 6, value);
  for (auto _ : state) {
    benchmark::DoNotOptimize(Update(base, base.context, NodeActor(0), 9000, false, value));
  }
}
BENCHMARK(BM_UpdateWithContext);

}  // namespace
}  // namespace ringkv::bench
