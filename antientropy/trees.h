// Trees: this node's anti-entropy trees, one per partition, kept in step
// with the objects themselves (docs/anti-entropy.md).
//
// - An object's key holds its segment (storage/keys.h ObjectKey), so the
//   objects of a segment are one range: there is no index beside them to
//   write, read or fall behind. A tree is the XOR of the leaves of its
//   partition's stored objects.
// - Every object write passes through Stage/Finish (an ObjectWriteObserver):
//   Stage computes the delta, old leaf XOR new leaf, and Finish applies it
//   to the partition's tree once the batch committed. The old leaf comes
//   from the object the write replaces when the store read it just before
//   (every replica write does), else from the key's stored object.
// - Open: when the clean-shutdown marker is there, the saved trees are
//   loaded and trusted and the marker is deleted (its absence is the dirty
//   flag while the node runs); otherwise every tree is rebuilt from the
//   objects. Save writes the trees and then the marker.
// - A rebuild folds the partition's objects at a snapshot in steps across
//   loop turns into a new tree, while writes go on: each write after the
//   snapshot XORs its delta into the new tree too, and since XOR commutes,
//   the finished tree is the objects as of the swap. A tree that was
//   trusted stays in use until the swap; one that was not (after a crash)
//   is not used by exchanges until its rebuild is done. The periodic
//   verification is such a rebuild: it catches a record that no longer
//   decodes (bit rot) and any damage to the tree in memory.
//
// One rebuild at a time. Single-threaded, on the node's loop.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "antientropy/hash_tree.h"
#include "antientropy/records.h"
#include "common/metrics.h"
#include "common/scheduler.h"
#include "common/status.h"
#include "proto/messages.h"
#include "replication/object_write_observer.h"
#include "storage/storage.h"

namespace ringkv::aae {

struct TreesOptions {
  uint32_t partitions = 64;
  // Objects folded per loop turn by a rebuild, and the pause between two
  // turns, so that the fold never holds the loop for long.
  size_t rows_per_step = 2000;
  int64_t step_pause_us = 1000;
  bool sync = false;
};

class Trees : public ObjectWriteObserver {
 public:
  // `storage`, `scheduler` and `metrics` must outlive this.
  Trees(TreesOptions options, Storage* storage, Scheduler* scheduler, MetricsRegistry* metrics);
  ~Trees() override;
  Trees(const Trees&) = delete;
  Trees& operator=(const Trees&) = delete;

  // Loads the saved trees or starts rebuilding them (above). Errors: the
  // storage's.
  Status Open();
  // For a node running without anti-entropy: its writes do not move the
  // saved trees, so the next Open must rebuild them (deletes the marker).
  static Status MarkTreesStale(Storage* storage);
  // Writes every trusted tree, then the marker, in one synced batch. A tree
  // still being rebuilt is not saved, and neither is the marker then.
  Status Save();

  Status Stage(uint32_t partition, uint32_t segment, std::string_view bucket,
               std::string_view key, uint64_t body_digest,
               const ReplacedObject* replaced) override;
  Status StageRemove(uint32_t partition, uint32_t segment, std::string_view bucket,
                     std::string_view key, const ReplacedObject& removed) override;
  void Finish(bool committed) override;

  // The partition's tree when it may take part in an exchange; null while
  // it is being built (or for a partition out of range).
  const HashTree* Trusted(uint32_t partition) const;
  // The tree as it is, trusted or not (status); null out of range.
  const HashTree* Current(uint32_t partition) const;
  bool trusted(uint32_t partition) const;
  uint32_t partitions() const { return options_.partitions; }

  // Queues a rebuild of `partition` from its objects; no-op when one is
  // already queued.
  void Rebuild(uint32_t partition);
  bool busy() const { return job_.has_value() || !queue_.empty(); }

  // The keys, leaves and clocks of the objects of `segments` of
  // `partition` as they are now (a record that does not decode is left
  // out, as it counts as no object).
  Status ReadSegments(uint32_t partition, const std::vector<uint32_t>& segments,
                      std::vector<AaeKeyEntry>* out);
  // Up to `limit` objects of `partition` that are tombstones, from the
  // object key `cursor` on ("" = the partition's first); `next` is where
  // the next call goes on ("" once the partition's end was reached). Reads
  // at most a bounded number of objects per call, tombstones or not.
  Status ReadTombstones(uint32_t partition, const std::string& cursor, size_t limit,
                        std::vector<AaeKeyEntry>* out, std::string* next);
  // The tree computed afresh from the partition's objects, now, in one go
  // (a status check; slow for a big partition).
  Result<HashTree> Recompute(uint32_t partition);

 private:
  struct Slot {
    std::unique_ptr<HashTree> live;
    bool trusted = false;
    std::unique_ptr<HashTree> building;
    bool queued = false;
  };
  struct Job {
    uint32_t partition = 0;
    std::unique_ptr<Snapshot> snapshot;
    std::unique_ptr<Iterator> it;
  };
  struct Staged {
    uint32_t partition = 0;
    uint32_t segment = 0;
    uint64_t delta = 0;
  };

  void StartNext();
  void ScheduleStep();
  void Step();
  void FinishJob();
  void ApplyDelta(uint32_t partition, uint32_t segment, uint64_t delta);
  // The leaf of the key's stored object now (0: none, or undecodable).
  Result<uint64_t> StoredLeaf(uint32_t partition, uint32_t segment, std::string_view bucket,
                              std::string_view key);

  TreesOptions options_;
  Storage* storage_;
  Scheduler* scheduler_;
  std::vector<Slot> slots_;
  // Deltas staged since the last Finish: a group commit stages several
  // writes into one batch (replication/object_store.h).
  std::vector<Staged> staged_;
  std::deque<uint32_t> queue_;
  std::optional<Job> job_;
  TimerId timer_ = 0;
  Counter* rebuilds_;
  Counter* staging_errors_;
  Counter* verify_errors_;
  MetricsRegistry::CallbackHandle building_gauge_;
  MetricsRegistry::CallbackHandle memory_gauge_;
};

}  // namespace ringkv::aae
