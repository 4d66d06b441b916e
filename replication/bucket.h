// Bucket properties: n, the default r and w, and the resolver, per bucket.
// What a request's own quorum values mean is common/quorum.h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "causality/object.h"
#include "causality/resolver.h"
#include "common/status.h"
#include "proto/messages.h"

namespace ringkv {

// The largest sibling cap a bucket may choose: the cap keeps reads and
// merges of one key bounded, so it is bounded itself.
inline constexpr uint32_t kMaxSiblingCap = 10000;

struct BucketProps {
  uint32_t n = 3;
  uint32_t r = 2;
  uint32_t w = 2;
  // A resolver's name (causality/resolver.h): a built-in, or
  // "merge:<plugin>" for a merge plugin (merge/); ParseBucketProps accepts
  // only those.
  std::string resolver = "siblings";
  // A coordinated write that would leave the key with more siblings than
  // max_siblings is refused (too_many_siblings); past warn_siblings it is
  // taken and counted (docs/limits.md "Siblings"). Riak's defaults.
  uint32_t max_siblings = 100;
  uint32_t warn_siblings = 25;
  // A merge bucket's pin on its plugin's code: the version (0: any) and the
  // start of its SHA-256 in hex (empty: any). A node whose plugin differs
  // keeps siblings instead of merging differently from its peers.
  uint32_t plugin_version = 0;
  std::string plugin_hash{};
  bool operator==(const BucketProps&) const = default;
};

// Parses "resolver=lww,n=3,r=2,w=2,max_siblings=100,warn_siblings=25" (any
// subset, any order) over `base`. Values of r and w may also be
// one|quorum|all. InvalidArgument on unknown keys, bad numbers, r/w outside
// 1..n, or a sibling cap outside 1..kMaxSiblingCap.
Result<BucketProps> ParseBucketProps(std::string_view spec, BucketProps base);
std::string FormatBucketProps(const BucketProps& props);
// The built-in resolver of `props`: the named one, or the default for a name
// this node does not know (a merge plugin's: BucketTable::ResolverFor).
const Resolver& ResolverOf(const BucketProps& props);

// "merge:<plugin>" names a merge plugin; the plugin's name is [a-z0-9_]{1,32}.
bool IsMergeResolverName(std::string_view name);

// Per-bucket properties with a default for buckets not named.
class BucketTable {
 public:
  BucketTable() = default;
  explicit BucketTable(BucketProps defaults) : defaults_(defaults) {}
  void Set(const std::string& bucket, BucketProps props) { buckets_[bucket] = props; }
  const BucketProps& Get(std::string_view bucket) const;
  const BucketProps& defaults() const { return defaults_; }
  const std::map<std::string, BucketProps, std::less<>>& named() const { return buckets_; }

  // Where merge plugins' resolvers are found; null: none (their buckets
  // keep siblings). Must outlive the table's users.
  void set_catalog(const ResolverCatalog* catalog) { catalog_ = catalog; }
  const ResolverCatalog* catalog() const { return catalog_; }
  // The resolver of `bucket`: its built-in, its plugin's, or the default
  // when the catalog has no such plugin.
  const Resolver& ResolverFor(std::string_view bucket) const;
  // Takes the ring state's buckets (buckets[0], empty name: the defaults)
  // in place, keeping the catalog: props read before stay valid unless
  // their bucket is gone from `buckets`.
  void Assign(const std::vector<BucketInfo>& buckets);

 private:
  BucketProps defaults_;
  const ResolverCatalog* catalog_ = nullptr;
  std::map<std::string, BucketProps, std::less<>> buckets_;
};

// The ring state's record of a bucket's properties (proto/messages.h), and
// back.
BucketInfo BucketInfoOf(const std::string& name, const BucketProps& props);
BucketProps BucketPropsOf(const BucketInfo& info);
// The defaults and every named bucket of `table`, the defaults first.
std::vector<BucketInfo> BucketInfos(const BucketTable& table);

}  // namespace ringkv
