#include "replication/replica.h"

#include <utility>

namespace ringkv {

bool Replica::IsLww(std::string_view bucket) const {
  return buckets_->Get(bucket).resolver == ResolverKind::kLww;
}

Result<Object> Replica::Coordinate(uint32_t partition, std::string_view bucket,
                                   std::string_view key, const VersionVector& context,
                                   bool tombstone, std::string value, int64_t timestamp_us,
                                   const WriteId& write_id) {
  // A read error must not be mistaken for "no object": minting a dot from a
  // counter we cannot see could reuse one (kv679).
  auto local = store_->Get(partition, bucket, key);
  if (!local.ok()) return local.status();
  if (local->has_value() && HoldsWrite(**local, write_id)) return std::move(**local);
  Object updated = Update(local->value_or(Object{}), context, self_, timestamp_us, tombstone,
                          std::move(value), write_id);
  if (IsLww(bucket)) {
    // The new write wins only if it is the latest-stamped (object.h MergeLww).
    updated = local->has_value() ? MergeLww(**local, updated) : ResolveLww(std::move(updated));
  }
  RINGKV_RETURN_IF_ERROR(store_->Put(partition, bucket, key, updated));
  return updated;
}

Result<Object> Replica::Merge(uint32_t partition, std::string_view bucket, std::string_view key,
                              const Object& incoming) {
  auto local = store_->Get(partition, bucket, key);
  if (!local.ok()) return local.status();
  Object merged;
  if (IsLww(bucket)) {
    merged = local->has_value() ? MergeLww(**local, incoming) : ResolveLww(incoming);
  } else {
    merged = local->has_value() ? Sync(**local, incoming) : incoming;
  }
  if (!local->has_value() || merged != **local) {
    RINGKV_RETURN_IF_ERROR(store_->Put(partition, bucket, key, merged));
  }
  return merged;
}

Result<std::optional<Object>> Replica::Read(uint32_t partition, std::string_view bucket,
                                            std::string_view key) {
  return store_->Get(partition, bucket, key);
}

}  // namespace ringkv
