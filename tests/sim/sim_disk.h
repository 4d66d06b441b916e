// SimDisk: a Storage wrapper that gives a simulated node a misbehaving disk.
//
// It forwards to the node's real engine (MemoryStorage in the simulator) and
// adds what a disk does wrong: a full disk (every write fails with IOError,
// reads still work), random write errors, and slowness (each write and each
// sync blocks the node's loop for a while, through SimProcess::AddBusy).
// Planted-bug tests install a `mutate` hook that rewrites batches before
// they reach the engine. Crash loss of unsynced writes is the engine's job
// (MemoryStorage::DropUnsynced). Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "common/random.h"
#include "storage/storage.h"
#include "tests/sim/sim_world.h"

namespace ringkv::sim {

struct DiskFaults {
  bool full = false;
  double write_error = 0.0;        // chance a write fails with IOError
  int64_t write_latency_us = 0;    // loop blocked per write
  int64_t sync_latency_us = 0;     // extra per synced write
};

struct DiskStats {
  uint64_t writes = 0;
  uint64_t synced_writes = 0;
  uint64_t failed_writes = 0;
  uint64_t reads = 0;
};

class SimDisk : public Storage {
 public:
  // Hook for planted bugs: may rewrite the batch before it is applied.
  using MutateFn = std::function<void(WriteBatch* batch)>;

  // `base`, `process` and `random` outlive the disk.
  SimDisk(Storage* base, SimProcess* process, Random* random)
      : base_(base), process_(process), random_(random) {}

  Status Get(std::string_view key, std::string* value) override {
    ++stats_.reads;
    return base_->Get(key, value);
  }
  Status GetAt(const Snapshot& snapshot, std::string_view key, std::string* value) override {
    ++stats_.reads;
    return base_->GetAt(snapshot, key, value);
  }
  Status Write(const WriteBatch& batch, bool sync) override;
  std::unique_ptr<Snapshot> GetSnapshot() override { return base_->GetSnapshot(); }
  std::unique_ptr<Iterator> NewIterator(const IteratorOptions& options) override {
    return base_->NewIterator(options);
  }

  DiskFaults& faults() { return faults_; }
  void set_mutate(MutateFn fn) { mutate_ = std::move(fn); }
  const DiskStats& stats() const { return stats_; }
  Storage* base() const { return base_; }

 private:
  Storage* base_;
  SimProcess* process_;
  Random* random_;
  DiskFaults faults_;
  MutateFn mutate_;
  DiskStats stats_;
};

}  // namespace ringkv::sim
