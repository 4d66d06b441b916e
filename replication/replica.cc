#include "replication/replica.h"

#include <utility>

#include "replication/admission.h"

namespace ringkv {

Replica::Replica(Actor self, const BucketTable* buckets, ObjectStore* store,
                 MetricsRegistry* metrics)
    : self_(std::move(self)), buckets_(buckets), store_(store) {
  if (metrics != nullptr) {
    sibling_warnings_ = metrics->AddCounter(
        "ringkv_sibling_warnings_total",
        "Writes coordinated here that left their key with more siblings than the bucket's "
        "warn_siblings.");
    merges_past_cap_ = metrics->AddCounter(
        "ringkv_sibling_cap_merges_total",
        "Merges of another replica's copy (replica write, read repair, hint, anti-entropy) that "
        "stored a key with more siblings than the bucket's max_siblings: writes coordinated "
        "apart, none dropped.");
  }
}

const Resolver& Replica::ResolverFor(std::string_view bucket) const {
  return buckets_->ResolverFor(bucket);
}

Result<Replica::Change> Replica::PlanCoordinate(uint32_t partition, std::string_view bucket,
                                                std::string_view key,
                                                const VersionVector& context, bool tombstone,
                                                std::string value, int64_t timestamp_us,
                                                const WriteId& write_id,
                                                const CoordinationRules& rules) {
  // A read error must not be mistaken for "no object": minting a dot from a
  // counter we cannot see could reuse one (kv679).
  auto read = store_->Get(partition, bucket, key);
  if (!read.ok()) return read.status();
  std::optional<Object> local = std::move(read).value();
  const Object* stored = local ? &*local : nullptr;
  Change change;
  if (stored != nullptr && HoldsWrite(*stored, write_id)) {
    change.object = std::move(*local);
    return change;
  }
  if (rules.if_match) RINGKV_RETURN_IF_ERROR(AdmitIfMatch(stored, context, bucket, key));
  // Every dot minted here goes above the mint floor, whatever the key holds
  // now: a key reaped and then filled again by another replica's write has
  // an object whose context has forgotten what this node minted before.
  Result<uint64_t> floor = store_->MintFloor();
  if (!floor.ok()) return floor.status();
  Object base = stored != nullptr ? *stored : Object{};
  if (*floor > base.context.Get(self_)) base.context.Set(self_, *floor);
  // Against the floor, a context read before a reap (naming no more than
  // the tombstone held) is still accepted.
  RINGKV_RETURN_IF_ERROR(AdmitCoordination(self_, context, &base));
  Object updated = Update(std::move(base), context, self_, timestamp_us, tombstone,
                          std::move(value), write_id);
  updated = ResolverFor(bucket).AfterUpdate(stored, std::move(updated));
  // Refused before it is stored: the key keeps what it held.
  RINGKV_RETURN_IF_ERROR(AdmitCoordinatedSize(stored, updated, tombstone, bucket, key));
  const BucketProps& props = buckets_->Get(bucket);
  RINGKV_RETURN_IF_ERROR(AdmitSiblingCount(stored, updated, props.max_siblings, bucket, key));
  if (sibling_warnings_ != nullptr && updated.siblings.size() > props.warn_siblings) {
    sibling_warnings_->Increment();
  }
  change.object = std::move(updated);
  change.write = true;
  return change;
}

Result<Replica::Change> Replica::PlanMerge(uint32_t partition, std::string_view bucket,
                                           std::string_view key, const Object& incoming) {
  auto read = store_->Get(partition, bucket, key);
  if (!read.ok()) return read.status();
  const std::optional<Object> stored = std::move(read).value();
  const Object* local = stored ? &*stored : nullptr;
  const Resolver& resolver = ResolverFor(bucket);
  Change change;
  change.object = local != nullptr ? resolver.Merge(*local, incoming) : resolver.Normalize(incoming);
  RINGKV_RETURN_IF_ERROR(AdmitMergedSize(local, change.object));
  change.write = local == nullptr || change.object != *local;
  const size_t before = local != nullptr ? local->siblings.size() : 0;
  if (change.write && merges_past_cap_ != nullptr && change.object.siblings.size() > before &&
      change.object.siblings.size() > buckets_->Get(bucket).max_siblings) {
    merges_past_cap_->Increment();
  }
  return change;
}

Result<Object> Replica::Apply(uint32_t partition, std::string_view bucket, std::string_view key,
                              Result<Change> change) {
  if (!change.ok()) return change.status();
  if (change->write) {
    RINGKV_RETURN_IF_ERROR(store_->Put(partition, bucket, key, change->object));
  }
  return std::move(change->object);
}

void Replica::Stage(uint32_t partition, std::string_view bucket, std::string_view key,
                    const Result<Change>& change, ObjectStore::Committed committed) {
  if (!change.ok()) {
    store_->AfterPending(
        [committed = std::move(committed), st = change.status()](const Status&) { committed(st); });
    return;
  }
  if (change->write) {
    store_->Put(partition, bucket, key, change->object, std::move(committed));
  } else {
    // What the key holds may be a write of this turn still staged: the
    // answer waits for the pending group.
    store_->AfterPending(std::move(committed));
  }
}

Result<Object> Replica::Coordinate(uint32_t partition, std::string_view bucket,
                                   std::string_view key, const VersionVector& context,
                                   bool tombstone, std::string value, int64_t timestamp_us,
                                   const WriteId& write_id, const CoordinationRules& rules) {
  return Apply(partition, bucket, key,
               PlanCoordinate(partition, bucket, key, context, tombstone, std::move(value),
                              timestamp_us, write_id, rules));
}

void Replica::Coordinate(uint32_t partition, std::string_view bucket, std::string_view key,
                         const VersionVector& context, bool tombstone, std::string value,
                         int64_t timestamp_us, const WriteId& write_id, Stored done,
                         const CoordinationRules& rules) {
  Result<Change> change = PlanCoordinate(partition, bucket, key, context, tombstone,
                                         std::move(value), timestamp_us, write_id, rules);
  if (!store_->grouping()) {
    // Written at once: the object is handed on without the copy a grouped
    // write keeps until its group is written.
    done(Apply(partition, bucket, key, std::move(change)));
    return;
  }
  Result<Object> object = change.ok() ? Result<Object>(change->object) : change.status();
  Stage(partition, bucket, key, change,
        [done = std::move(done), object = std::move(object)](const Status& st) mutable {
          done(st.ok() ? std::move(object) : Result<Object>(st));
        });
}

Result<Object> Replica::Merge(uint32_t partition, std::string_view bucket, std::string_view key,
                              const Object& incoming) {
  return Apply(partition, bucket, key, PlanMerge(partition, bucket, key, incoming));
}

void Replica::Merge(uint32_t partition, std::string_view bucket, std::string_view key,
                    const Object& incoming, ObjectStore::Committed done) {
  // A store that does not group writes at once and tells `done` before
  // returning.
  Stage(partition, bucket, key, PlanMerge(partition, bucket, key, incoming), std::move(done));
}

Result<std::optional<Object>> Replica::Read(uint32_t partition, std::string_view bucket,
                                            std::string_view key) {
  return store_->Read(partition, bucket, key);
}

Result<bool> Replica::Reap(uint32_t partition, std::string_view bucket, std::string_view key,
                           const Object& expected) {
  return store_->Reap(partition, bucket, key, expected, self_);
}

}  // namespace ringkv
