// Bucket properties: n, the default r and w, and the resolver, per bucket.
// What a request's own quorum values mean is common/quorum.h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "causality/object.h"
#include "causality/resolver.h"
#include "common/status.h"

namespace ringkv {

struct BucketProps {
  uint32_t n = 3;
  uint32_t r = 2;
  uint32_t w = 2;
  // A resolver's name (causality/resolver.h); ParseBucketProps accepts only
  // known ones.
  std::string resolver = "siblings";
  bool operator==(const BucketProps&) const = default;
};

// Parses "resolver=lww,n=3,r=2,w=2" (any subset, any order) over `base`.
// Values of r and w may also be one|quorum|all. InvalidArgument on unknown
// keys, bad numbers, or r/w outside 1..n.
Result<BucketProps> ParseBucketProps(std::string_view spec, BucketProps base);
std::string FormatBucketProps(const BucketProps& props);
// The resolver of `props`: the named one, or the default for a name this
// node does not know.
const Resolver& ResolverOf(const BucketProps& props);

// Per-bucket properties with a default for buckets not named.
class BucketTable {
 public:
  BucketTable() = default;
  explicit BucketTable(BucketProps defaults) : defaults_(defaults) {}
  void Set(const std::string& bucket, BucketProps props) { buckets_[bucket] = props; }
  const BucketProps& Get(std::string_view bucket) const;
  const BucketProps& defaults() const { return defaults_; }
  const std::map<std::string, BucketProps, std::less<>>& named() const { return buckets_; }

 private:
  BucketProps defaults_;
  std::map<std::string, BucketProps, std::less<>> buckets_;
};

}  // namespace ringkv
