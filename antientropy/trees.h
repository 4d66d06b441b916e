// Trees: this node's anti-entropy trees, one per partition, and the segment
// index they are kept in step with (docs/anti-entropy.md).
//
// - Every object write passes through Stage/Finish (an ObjectWriteObserver):
//   Stage learns the key's old leaf, puts the new row (leaf, clock) into the
//   object's own batch, and Finish applies old leaf XOR new leaf to the
//   partition's tree once the batch committed. The old leaf is computed
//   from the object the write replaces when the store read it just before
//   (every replica write does), else read from the key's index row; the
//   two agree because the row is written with the object, so the tree is
//   always the XOR of the index rows, and the index never lags the objects.
//   (A row damaged behind the store's back is what verification repairs,
//   and its rebuild recounts the tree from the index.)
// - Open: when the clean-shutdown marker is there, the saved trees are
//   loaded and trusted and the marker is deleted (its absence is the dirty
//   flag while the node runs); otherwise every tree is rebuilt from the
//   index. Save writes the trees and then the marker.
// - A rebuild folds the index at a snapshot in steps across loop turns into
//   a new tree, while writes go on: each write after the snapshot XORs its
//   delta into the new tree too, and since XOR commutes, the finished tree
//   is the index as of the swap. A tree that was trusted stays in use until
//   the swap; one that was not (after a crash) is not used by exchanges
//   until its rebuild is done.
// - A verification folds the objects themselves and rewrites every index
//   row that disagrees with its object (and deletes rows with no object),
//   through the same exactly-once path, then rebuilds the tree from the
//   index: bit rot and index drift are caught.
//
// One rebuild or verification at a time. Single-threaded, on the node's loop.
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
  // Rows folded per loop turn by a rebuild or verification, and the pause
  // between two turns, so that the fold never holds the loop for long.
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
  // For a node running without anti-entropy: its writes skip the index from
  // now on, so the next Open must rebuild the index from the objects.
  static Status MarkIndexIncomplete(Storage* storage);
  // Writes every trusted tree, then the marker, in one synced batch. A tree
  // still being rebuilt is not saved, and neither is the marker then.
  Status Save();

  Status Stage(uint32_t partition, std::string_view bucket, std::string_view key,
               const Object& object, uint64_t body_digest, const ReplacedObject* replaced,
               WriteBatch* batch) override;
  Status StageRemove(uint32_t partition, std::string_view bucket, std::string_view key,
                     WriteBatch* batch) override;
  void Finish(bool committed) override;

  // The partition's tree when it may take part in an exchange; null while
  // it is being built (or for a partition out of range).
  const HashTree* Trusted(uint32_t partition) const;
  // The tree as it is, trusted or not (status); null out of range.
  const HashTree* Current(uint32_t partition) const;
  bool trusted(uint32_t partition) const;
  uint32_t partitions() const { return options_.partitions; }

  // Queues a rebuild of `partition` from its index, or a verification from
  // its objects (then a rebuild); no-op when one is already queued.
  void Rebuild(uint32_t partition);
  void Verify(uint32_t partition);
  bool busy() const { return job_.has_value() || !queue_.empty(); }

  // The index rows of `segments` of `partition` as they are now.
  Status ReadSegments(uint32_t partition, const std::vector<uint32_t>& segments,
                      std::vector<AaeKeyEntry>* out);
  // Up to `limit` index rows of `partition` that are tombstones, from the
  // index key `cursor` on ("" = the partition's first); `next` is where the
  // next call goes on ("" once the partition's end was reached). Reads at
  // most a bounded number of rows per call, tombstones or not.
  Status ReadTombstones(uint32_t partition, const std::string& cursor, size_t limit,
                        std::vector<AaeKeyEntry>* out, std::string* next);
  // The tree computed afresh from the partition's objects, now, in one go
  // (a status check; slow for a big partition).
  Result<HashTree> Recompute(uint32_t partition);

 private:
  enum class JobKind { kIndex, kObjects, kOrphans };
  struct Slot {
    std::unique_ptr<HashTree> live;
    bool trusted = false;
    std::unique_ptr<HashTree> building;
    bool queued_index = false;
    bool queued_objects = false;
    // Its index is being refilled from the objects after a run without
    // anti-entropy.
    bool gap = false;
  };
  struct Job {
    uint32_t partition = 0;
    JobKind kind = JobKind::kIndex;
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
  // One object of a verification: fixes its index row if it disagrees.
  Status CheckObject(std::string_view skey, std::string_view record);
  // One index row of a verification: deletes it when its object is gone.
  Status CheckRow(std::string_view skey, std::string_view value);
  // Writes `row` (or deletes the key's row when null) with its tree delta,
  // through the exactly-once path.
  Status RewriteRow(uint32_t partition, uint32_t segment, std::string_view index_key,
                    const IndexEntry* row);
  void ApplyDelta(uint32_t partition, uint32_t segment, uint64_t delta);
  // Puts `row` (or deletes the key's row when null) into `batch` and stages
  // its tree delta for Finish.
  // `old_leaf`: the key's leaf before this write, or nullopt to read it
  // from the key's index row.
  Status StageRow(uint32_t partition, std::string_view bucket, std::string_view key,
                  const IndexEntry* row, std::optional<uint64_t> old_leaf, WriteBatch* batch);

  TreesOptions options_;
  Storage* storage_;
  Scheduler* scheduler_;
  std::vector<Slot> slots_;
  // Deltas staged since the last Finish: a group commit stages several
  // writes into one batch (replication/object_store.h).
  std::vector<Staged> staged_;
  std::deque<std::pair<uint32_t, JobKind>> queue_;
  std::optional<Job> job_;
  TimerId timer_ = 0;
  // Partitions whose index is still being refilled (Slot::gap).
  uint32_t gaps_left_ = 0;
  Counter* rebuilds_;
  Counter* index_repairs_;
  Counter* staging_errors_;
  Counter* verify_errors_;
  MetricsRegistry::CallbackHandle building_gauge_;
  MetricsRegistry::CallbackHandle memory_gauge_;
};

}  // namespace ringkv::aae
