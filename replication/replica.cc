#include "replication/replica.h"

#include <utility>

namespace ringkv {

const Resolver& Replica::ResolverFor(std::string_view bucket) const {
  return ResolverOf(buckets_->Get(bucket));
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
  updated = ResolverFor(bucket).AfterUpdate(local->has_value() ? &**local : nullptr,
                                            std::move(updated));
  RINGKV_RETURN_IF_ERROR(store_->Put(partition, bucket, key, updated));
  return updated;
}

Result<Object> Replica::Merge(uint32_t partition, std::string_view bucket, std::string_view key,
                              const Object& incoming) {
  auto local = store_->Get(partition, bucket, key);
  if (!local.ok()) return local.status();
  const Resolver& resolver = ResolverFor(bucket);
  Object merged =
      local->has_value() ? resolver.Merge(**local, incoming) : resolver.Normalize(incoming);
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
