// Replica: this node's copy of the objects it is a replica for, and the
// causal operations on it (causality.md §2): coordinate a write (mint a
// dot), merge a copy from another replica (sync, no new dot), read.
//
// Every change reads the stored object, applies one pure function from
// causality/object.h plus the bucket's resolver, and writes the result in
// one atomic batch before anyone is told it succeeded. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "causality/object.h"
#include "common/metrics.h"
#include "common/status.h"
#include "replication/bucket.h"
#include "replication/object_store.h"

namespace ringkv {

// How the coordinator asks a write to be coordinated here.
struct CoordinationRules {
  // A conditional put: refused (PreconditionFailed) when the stored object
  // holds a sibling the write's context does not cover.
  bool if_match = false;
};

class Replica {
 public:
  // All pointers must outlive the Replica; `metrics` may be null (tests).
  Replica(Actor self, const BucketTable* buckets, ObjectStore* store,
          MetricsRegistry* metrics = nullptr);

  // update(S_local, context, self, value): the new object, durably stored,
  // its sibling stamped with the write's time and id. A write whose id the
  // local object already holds was coordinated before (by this node or by
  // another primary whose copy arrived first): the stored object is
  // returned unchanged, with no new dot. A write that would leave more
  // siblings than the bucket's max_siblings is refused (TooManySiblings)
  // before anything is stored. Every dot is minted above the store's mint
  // floor, so that a write to a reaped key is never covered by a copy of
  // its old tombstone still on its way somewhere.
  Result<Object> Coordinate(uint32_t partition, std::string_view bucket, std::string_view key,
                            const VersionVector& context, bool tombstone, std::string value,
                            int64_t timestamp_us, const WriteId& write_id,
                            const CoordinationRules& rules = {});

  // sync(S_local, incoming), stored when it changed anything. Returns the
  // merged object.
  Result<Object> Merge(uint32_t partition, std::string_view bucket, std::string_view key,
                       const Object& incoming);

  // The same two, through the store's group commit (object_store.h):
  // `done` is told the outcome exactly once, once the object is in storage
  // (the write this call staged, or an earlier one of the turn that it
  // found): from the loop, never from inside the call, when the store
  // groups writes; before the call returns when it does not. A coordinator
  // needs the object it replicates; a replica merging a copy only the
  // status.
  using Stored = std::function<void(Result<Object>)>;
  void Coordinate(uint32_t partition, std::string_view bucket, std::string_view key,
                  const VersionVector& context, bool tombstone, std::string value,
                  int64_t timestamp_us, const WriteId& write_id, Stored done,
                  const CoordinationRules& rules = {});
  void Merge(uint32_t partition, std::string_view bucket, std::string_view key,
             const Object& incoming, ObjectStore::Committed done);

  // What this node stores for the key, for answering a reader (never a
  // write of this turn that is not in storage yet).
  Result<std::optional<Object>> Read(uint32_t partition, std::string_view bucket,
                                     std::string_view key);

  // Removes the key if its object is still exactly `expected`: a tombstone
  // every replica holds (anti-entropy's reaping). Returns whether it did.
  Result<bool> Reap(uint32_t partition, std::string_view bucket, std::string_view key,
                    const Object& expected);

  const Actor& self() const { return self_; }

 private:
  // A change worked out against what the key holds: `object` is the
  // result, to be stored when `write`.
  struct Change {
    Object object;
    bool write = false;
  };
  Result<Change> PlanCoordinate(uint32_t partition, std::string_view bucket,
                                std::string_view key, const VersionVector& context,
                                bool tombstone, std::string value, int64_t timestamp_us,
                                const WriteId& write_id, const CoordinationRules& rules);
  Result<Change> PlanMerge(uint32_t partition, std::string_view bucket, std::string_view key,
                           const Object& incoming);
  Result<Object> Apply(uint32_t partition, std::string_view bucket, std::string_view key,
                       Result<Change> change);
  // Stages the change when it writes; `committed` is told once what it
  // built on is in storage, or the error that stopped it.
  void Stage(uint32_t partition, std::string_view bucket, std::string_view key,
             const Result<Change>& change, ObjectStore::Committed committed);
  const Resolver& ResolverFor(std::string_view bucket) const;

  Actor self_;
  const BucketTable* buckets_;
  ObjectStore* store_;
  // Coordinated writes that left their key past the bucket's warn_siblings.
  Counter* sibling_warnings_ = nullptr;
  // Merges that stored more siblings than the bucket's max_siblings.
  Counter* merges_past_cap_ = nullptr;
};

}  // namespace ringkv
