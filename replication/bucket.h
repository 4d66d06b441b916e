// Bucket properties and the arithmetic of quorums.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ringkv {

enum class ResolverKind : uint8_t {
  kSiblings = 0,  // keep concurrent writes as siblings (default)
  kLww = 1,       // last write wins: highest (timestamp, node)
};

struct BucketProps {
  uint32_t n = 3;
  uint32_t r = 2;
  uint32_t w = 2;
  ResolverKind resolver = ResolverKind::kSiblings;
  bool operator==(const BucketProps&) const = default;
};

// Parses "resolver=lww,n=3,r=2,w=2" (any subset, any order) over `base`.
// Values of r and w may also be one|quorum|all. InvalidArgument on unknown
// keys, bad numbers, or r/w outside 1..n.
Result<BucketProps> ParseBucketProps(std::string_view spec, BucketProps base);
std::string FormatBucketProps(const BucketProps& props);
std::string_view ResolverName(ResolverKind kind);

// Resolves a requested quorum value (proto/messages.h kQuorum*) against n.
// `fallback` is used for kQuorumDefault. InvalidArgument when the result
// exceeds n.
Result<uint32_t> ResolveQuorum(uint32_t requested, uint32_t fallback, uint32_t n,
                               std::string_view what);

// Parses a CLI quorum argument: a number, "one", "quorum", "all" or
// "default". Returns the wire value.
Result<uint32_t> ParseQuorumArg(std::string_view text);

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
