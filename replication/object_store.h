// ObjectStore: a node's objects on its Storage, as object records keyed by
// partition (storage/keys.h, storage/record.h; docs/storage-format.md).
//
// Each write is one WriteBatch, told to the write observer before it is
// written. Not thread-safe: owned by the node's loop.
//
// Group commit: the replica writes of one loop turn that can wait for their
// acknowledgement (a Put given a `committed` callback) are staged into one
// batch, written to storage as ONE Write at the end of the turn (one fsync
// with `sync`), and only then told its status: nothing is acknowledged
// before it is in the engine's log, and a failed batch fails exactly the
// writes staged into it. Within the turn:
// - Get (the view a write builds on) sees the staged writes, so two writes
//   of one key in one turn chain as they would one after the other; both
//   are in the one batch, so they stand or fall together.
// - Read (the view a reader is answered from) never sees a write that is
//   not in storage: a read of a staged key commits the group first.
// - A write that cannot wait (no callback: anti-entropy, transfers,
//   reaping) commits the group first, so storage sees writes in order.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "causality/object.h"
#include "common/metrics.h"
#include "common/scheduler.h"
#include "common/status.h"
#include "replication/object_write_observer.h"
#include "storage/storage.h"

namespace ringkv {

class ObjectStore {
 public:
  // Told a grouped write's outcome (or an AfterPending's): exactly once,
  // from a task on the loop, never from inside the call that staged it.
  using Committed = std::function<void(Status)>;

  // `storage` (and `scheduler`, `metrics` when given) must outlive this.
  // With `sync`, every storage write is fsync'd. Without a `scheduler`
  // nothing is grouped: a Put given a callback is written at once and
  // tells it before returning. `metrics` may be null.
  ObjectStore(Storage* storage, bool sync, Scheduler* scheduler = nullptr,
              MetricsRegistry* metrics = nullptr);
  // Writes staged and not yet committed are dropped, unacknowledged (a
  // clean shutdown calls Commit first).
  ~ObjectStore();
  ObjectStore(const ObjectStore&) = delete;
  ObjectStore& operator=(const ObjectStore&) = delete;

  // The object a write of the key builds on: the staged one when the key
  // has a write in the pending group, else the stored one; nullopt when the
  // key has none. Corruption when the record fails its checksum or does
  // not decode.
  Result<std::optional<Object>> Get(uint32_t partition, std::string_view bucket,
                                    std::string_view key);
  // The stored object, for answering a reader: a key with a staged write
  // has its group committed first.
  Result<std::optional<Object>> Read(uint32_t partition, std::string_view bucket,
                                     std::string_view key);
  // When this store's last Get was of the same key, with nothing written
  // since, the observer learns what the write replaces from that Get
  // instead of reading its own state for the key.
  //
  // Without `committed`, the pending group and then this write are written
  // now, and the write's status is returned. With it, the write is staged
  // into this turn's group and `committed` is told the group's status (or
  // the staging error) later, as above.
  Status Put(uint32_t partition, std::string_view bucket, std::string_view key,
             const Object& object);
  void Put(uint32_t partition, std::string_view bucket, std::string_view key,
           const Object& object, Committed committed);
  // `committed` is told the status of the pending group (OK when it is
  // empty), when it is written: for an answer that relies on what Get saw,
  // which may be a staged write.
  void AfterPending(Committed committed);
  // Writes the pending group now (its callbacks still run from the loop's
  // task). Returns its status.
  Status Commit();
  // Whether writes given a callback are grouped (the store has a scheduler).
  bool grouping() const { return scheduler_ != nullptr; }

  // Removes the key's object if it is still exactly `expected` (a reaped
  // tombstone, docs/anti-entropy.md), and in the same batch raises the mint
  // floor to `expected`'s counter for `self`. Returns whether it removed.
  Result<bool> Reap(uint32_t partition, std::string_view bucket, std::string_view key,
                    const Object& expected, const Actor& self);
  // Every counter this node's actor minted for a key it has since reaped is
  // at most this (0 before any reap); every dot it mints must be above it.
  // Read from storage once, then kept.
  Result<uint64_t> MintFloor();

  // Every later Put stages its batch through `observer` (null: none); it
  // must outlive the store or be reset first. Commits the pending group
  // first, so each group's writes have one observer.
  void set_observer(ObjectWriteObserver* observer);

 private:
  // The last Get: its storage key, whether it found a record, and that
  // record's checksum. Cleared by every write.
  struct LastRead {
    std::string skey;
    bool found = false;
    uint64_t checksum = 0;
  };
  // The writes of this turn not yet written.
  struct Group {
    WriteBatch batch;
    // Object key -> the index in `batch` of its latest staged record.
    std::unordered_map<std::string, size_t> records;
    std::vector<Committed> waiting;
    size_t writes = 0;
    // The observer staged rows for some of `writes`: it is owed a Finish.
    bool observed = false;
  };

  // One object write, told to the observer: returns its record, to be
  // stored under `*skey`.
  Result<std::string> StageWrite(uint32_t partition, std::string_view bucket,
                                 std::string_view key, const Object& object, bool grouped,
                                 std::string* skey);
  void Schedule();
  void OnTurnEnd();
  const std::string* StagedRecord(const std::string& skey) const;

  Storage* storage_;
  bool sync_;
  Scheduler* scheduler_;
  ObjectWriteObserver* observer_ = nullptr;
  std::optional<uint64_t> mint_floor_;
  std::optional<LastRead> last_read_;
  Group group_;
  // Callbacks of groups already written (or of staging errors), with their
  // status, for the turn's task.
  std::vector<std::pair<Committed, Status>> ready_;
  TimerId task_ = 0;
  Histogram* group_writes_ = nullptr;
  Counter* early_commits_ = nullptr;
};

}  // namespace ringkv
