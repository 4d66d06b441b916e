// A key at the sibling cap (100 siblings of 100 bytes, the default cap) on
// one replica, through the operations issue 13's blind YCSB case repeats on
// it: a blind write refused at the cap, a replica write bringing one more
// sibling, read repair of an equal copy, a replica's read answer encoded,
// and a coordinator merging two replicas' answers.
#include <benchmark/benchmark.h>

#include <string>

#include "proto/codec.h"
#include "proto/messages.h"
#include "replication/bucket.h"
#include "replication/object_store.h"
#include "replication/replica.h"
#include "storage/memory_storage.h"

namespace ringkv::bench {
namespace {

constexpr int kCap = 100;
const Actor kOwner{"node1", 1};

// `siblings` concurrent blind writes coordinated by kOwner.
Object Blind(int siblings) {
  Object o;
  for (int i = 0; i < siblings; ++i) {
    o = Update(std::move(o), {}, kOwner, 1000 + i, false, std::string(100, 'a' + i % 26),
               WriteId{1, static_cast<uint64_t>(i + 1)});
  }
  return o;
}

struct CappedReplica {
  MemoryStorage memory;
  ObjectStore store{&memory, false};
  BucketTable buckets;
  Replica replica{Actor{"node2", 1}, &buckets, &store};
  explicit CappedReplica(const Object& stored) { (void)store.Put(0, "b", "hot", stored); }
};

void BM_CappedBlindWriteRefused(benchmark::State& state) {
  CappedReplica r(Blind(kCap));
  uint64_t id = 1000;
  for (auto _ : state) {
    auto refused = r.replica.Coordinate(0, "b", "hot", {}, false, std::string(100, 'z'), 5000,
                                        WriteId{2, ++id});
    benchmark::DoNotOptimize(refused);
  }
}
BENCHMARK(BM_CappedBlindWriteRefused);

void BM_CappedReplicaWriteOneMore(benchmark::State& state) {
  const Object before = Blind(kCap - 1);
  const Object after = Blind(kCap);
  CappedReplica r(before);
  for (auto _ : state) {
    benchmark::DoNotOptimize(r.replica.Merge(0, "b", "hot", after));
    state.PauseTiming();
    (void)r.store.Put(0, "b", "hot", before);
    state.ResumeTiming();
  }
}
BENCHMARK(BM_CappedReplicaWriteOneMore);

void BM_CappedReadRepairOfEqualCopy(benchmark::State& state) {
  const Object stored = Blind(kCap);
  CappedReplica r(stored);
  for (auto _ : state) benchmark::DoNotOptimize(r.replica.Merge(0, "b", "hot", stored));
}
BENCHMARK(BM_CappedReadRepairOfEqualCopy);

void BM_CappedReplicaReadAnswered(benchmark::State& state) {
  CappedReplica r(Blind(kCap));
  for (auto _ : state) {
    auto got = r.replica.Read(0, "b", "hot");
    ReplicaGetReply reply{Status::OK(), true, std::move(**got)};
    benchmark::DoNotOptimize(EncodeMessage(Message{1, "node2", 0, std::move(reply)}));
  }
}
BENCHMARK(BM_CappedReplicaReadAnswered);

void BM_CappedMergeOfTwoAnswers(benchmark::State& state) {
  const Object a = Blind(kCap);
  const Object b = Blind(kCap - 1);
  for (auto _ : state) benchmark::DoNotOptimize(Sync(a, b));
}
BENCHMARK(BM_CappedMergeOfTwoAnswers);

}  // namespace
}  // namespace ringkv::bench
