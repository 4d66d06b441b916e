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

Result<Object> Replica::Coordinate(uint32_t partition, std::string_view bucket,
                                   std::string_view key, const VersionVector& context,
                                   bool tombstone, std::string value, int64_t timestamp_us,
                                   const WriteId& write_id, const CoordinationRules& rules) {
  // A read error must not be mistaken for "no object": minting a dot from a
  // counter we cannot see could reuse one (kv679).
  auto local = store_->Get(partition, bucket, key);
  if (!local.ok()) return local.status();
  const Object* stored = local->has_value() ? &**local : nullptr;
  if (stored != nullptr && HoldsWrite(*stored, write_id)) return std::move(**local);
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
  RINGKV_RETURN_IF_ERROR(store_->Put(partition, bucket, key, updated, stored));
  return updated;
}

Result<Object> Replica::Merge(uint32_t partition, std::string_view bucket, std::string_view key,
                              const Object& incoming) {
  auto local = store_->Get(partition, bucket, key);
  if (!local.ok()) return local.status();
  const Resolver& resolver = ResolverFor(bucket);
  Object merged =
      local->has_value() ? resolver.Merge(**local, incoming) : resolver.Normalize(incoming);
  RINGKV_RETURN_IF_ERROR(AdmitMergedSize(local->has_value() ? &**local : nullptr, merged));
  if (!local->has_value() || merged != **local) {
    RINGKV_RETURN_IF_ERROR(
        store_->Put(partition, bucket, key, merged, local->has_value() ? &**local : nullptr));
    const size_t before = local->has_value() ? (**local).siblings.size() : 0;
    if (merges_past_cap_ != nullptr && merged.siblings.size() > before &&
        merged.siblings.size() > buckets_->Get(bucket).max_siblings) {
      merges_past_cap_->Increment();
    }
  }
  return merged;
}

Result<std::optional<Object>> Replica::Read(uint32_t partition, std::string_view bucket,
                                            std::string_view key) {
  return store_->Get(partition, bucket, key);
}

Result<bool> Replica::Reap(uint32_t partition, std::string_view bucket, std::string_view key,
                           const Object& expected) {
  return store_->Reap(partition, bucket, key, expected, self_);
}

}  // namespace ringkv
