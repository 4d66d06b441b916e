// Storage put and get of 100-byte values under the node's key layout
// (storage/keys.h ObjectKey), LevelDB (unsynced and synced writes) and the
// in-memory engine.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/hash.h"
#include "storage/keys.h"
#include "storage/leveldb_storage.h"
#include "storage/memory_storage.h"
#include "tools/bench/key_chooser.h"

namespace ringkv::bench {
namespace {

constexpr int kKeys = 100'000;

std::vector<std::string> Keys() {
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = KeyName(i);
    keys.push_back(ObjectKey(static_cast<uint32_t>(KeyHash("bench", key) >> 58), "bench", key));
  }
  return keys;
}

// A fresh LevelDB under a temporary directory removed at the end.
class TempLevelDb {
 public:
  TempLevelDb() {
    char tmpl[] = "/tmp/ringkv-micro-XXXXXX";
    dir_ = mkdtemp(tmpl);
    storage_ = std::move(LevelDbStorage::Open(dir_).value());
  }
  ~TempLevelDb() {
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }
  Storage* get() { return storage_.get(); }

 private:
  std::string dir_;
  std::unique_ptr<Storage> storage_;
};

void Fill(Storage* storage, const std::vector<std::string>& keys, const std::string& value) {
  for (const auto& key : keys) {
    WriteBatch batch;
    batch.Put(key, value);
    if (!storage->Write(batch, false).ok()) std::abort();
  }
}

void RunPuts(benchmark::State& state, Storage* storage, bool sync) {
  const std::vector<std::string> keys = Keys();
  const std::string value(100, 'v');
  size_t i = 0;
  for (auto _ : state) {
    WriteBatch batch;
    batch.Put(keys[(i++ * 7919) % kKeys], value);
    benchmark::DoNotOptimize(storage->Write(batch, sync));
  }
  state.SetItemsProcessed(state.iterations());
}

void RunGets(benchmark::State& state, Storage* storage) {
  const std::vector<std::string> keys = Keys();
  Fill(storage, keys, std::string(100, 'v'));
  std::string value;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(storage->Get(keys[(i++ * 7919) % kKeys], &value));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_LevelDbPut(benchmark::State& state) {
  TempLevelDb db;
  RunPuts(state, db.get(), false);
}
BENCHMARK(BM_LevelDbPut);

void BM_LevelDbPutSynced(benchmark::State& state) {
  TempLevelDb db;
  RunPuts(state, db.get(), true);
}
BENCHMARK(BM_LevelDbPutSynced)->Iterations(2000);

void BM_LevelDbGet(benchmark::State& state) {
  TempLevelDb db;
  RunGets(state, db.get());
}
BENCHMARK(BM_LevelDbGet);

void BM_MemoryPut(benchmark::State& state) {
  MemoryStorage storage;
  RunPuts(state, &storage, false);
}
BENCHMARK(BM_MemoryPut);

void BM_MemoryGet(benchmark::State& state) {
  MemoryStorage storage;
  RunGets(state, &storage);
}
BENCHMARK(BM_MemoryGet);

}  // namespace
}  // namespace ringkv::bench
