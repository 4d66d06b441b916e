// HintStore: durable hints, writes held for a replica that missed them.
//
// One hint per (target node, object), stored as an object record under the
// hint key range (docs/storage-format.md), so hints survive a restart of
// the node holding them and later writes for one object merge into its hint
// causally. A hint is removed only after its target acknowledged it, and
// only if no newer write was merged into it meanwhile. Pending hints per
// target, writes and failures are ringkv_hint* metrics (docs/metrics.md).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "causality/object.h"
#include "common/metrics.h"
#include "common/status.h"
#include "common/transport.h"
#include "storage/storage.h"

namespace ringkv {

class HintStore {
 public:
  struct Entry {
    NodeId target;
    uint32_t partition = 0;
    std::string bucket, key;
    Object object;
  };

  // `storage` and `metrics` must outlive this. With `sync`, every change is
  // fsync'd.
  HintStore(Storage* storage, bool sync, MetricsRegistry* metrics);

  // Counts the hints already on disk (a restart keeps them). Call once
  // before anything else.
  Status Load();

  // Merges `object` into the hint for (target, object key); durable on return.
  Status Add(const NodeId& target, uint32_t partition, std::string_view bucket,
             std::string_view key, const Object& object);

  // Up to `limit` hints for `target`, in key order, strictly after the hint
  // key `after` ("" = from the first). Corrupt hints are skipped and counted.
  Result<std::vector<Entry>> List(const NodeId& target, size_t limit, std::string_view after);

  // Removes the hint `delivered` unless it changed since it was listed.
  // Returns true when removed.
  Result<bool> RemoveDelivered(const Entry& delivered);

  // Anti-entropy's reaping (docs/anti-entropy.md): removes every hint for
  // the key, whatever its target, whose object `clock` covers entirely
  // (its context; such a hint can bring nothing the tombstone has not
  // seen). Returns true only when there was no hint for the key at all: a
  // hint just removed may have a delivery still on its way.
  Result<bool> DropCovered(uint32_t partition, std::string_view bucket, std::string_view key,
                           const VersionVector& clock);

  // Told the hint key of every hint removed (delivered or dropped), so that
  // what others keep about a hint (hinted handoff's parked entries) goes
  // with it. One observer; nullptr clears it.
  void set_removed_observer(std::function<void(const std::string& hint_key)> observer) {
    removed_observer_ = std::move(observer);
  }

  // Pending hints per target (targets with none are absent).
  const std::map<NodeId, uint64_t>& counts() const { return counts_; }
  uint64_t corrupt() const { return corrupt_->value(); }
  // Adds that failed on a storage error since this store was created.
  uint64_t write_failures() const { return write_failures_->value(); }

 private:
  Storage* storage_;
  bool sync_;
  // Deletes the hint `hk` of `target` (which exists) and tells the observer.
  Status Remove(const NodeId& target, const std::string& hk);

  std::map<NodeId, uint64_t> counts_;
  std::function<void(const std::string&)> removed_observer_;
  Counter* writes_;
  Counter* corrupt_;
  Counter* write_failures_;
  MetricsRegistry::CallbackHandle pending_gauge_;
};

}  // namespace ringkv
