#include "replication/bucket_change.h"

#include <algorithm>
#include <string>

#include "proto/request_limits.h"
#include "replication/bucket.h"

namespace ringkv {

Result<BucketInfo> CheckBucketChange(const RingState& state, std::string_view name,
                                     std::string_view spec, const ResolverCatalog* catalog,
                                     const NodeId& claimant) {
  if (name.empty() || name.size() > kMaxBucketBytes) {
    return Status::InvalidArgument("a bucket name is 1 to " + std::to_string(kMaxBucketBytes) +
                                   " bytes");
  }
  const std::string bucket(name);
  const std::string what = "bucket '" + bucket + "'";
  if (spec.empty()) {
    return Status::InvalidArgument(what + ": nothing to set (give n=,r=,w=,resolver=,...)");
  }
  BucketProps current;
  current.n = state.n;
  auto named = std::find_if(state.buckets.begin(), state.buckets.end(),
                            [&bucket](const BucketInfo& b) { return b.name == bucket; });
  auto defaults = std::find_if(state.buckets.begin(), state.buckets.end(),
                               [](const BucketInfo& b) { return b.name.empty(); });
  if (named != state.buckets.end()) {
    current = BucketPropsOf(*named);
  } else if (defaults != state.buckets.end()) {
    current = BucketPropsOf(*defaults);
  }
  Result<BucketProps> props = ParseBucketProps(spec, current);
  if (!props.ok()) return Status::InvalidArgument(what + ": " + props.status().message());
  const size_t owners = static_cast<size_t>(
      std::count_if(state.members.begin(), state.members.end(),
                    [](const StateMember& m) { return OwnsPartitions(m.status); }));
  if (props->n > owners) {
    return Status::InvalidArgument(what + ": n=" + std::to_string(props->n) + " is more than the " +
                                   std::to_string(owners) +
                                   " members that own partitions: a key cannot have that many "
                                   "distinct replicas");
  }
  if (props->n != current.n) {
    // Keys already written live on their first n replicas: a larger n
    // would leave the new replicas empty (reads at R answered not-found),
    // a smaller one leave copies nothing cleans up. Moving them is a ring
    // change of its own, not built yet.
    return Status::InvalidArgument(
        what + ": n is " + std::to_string(current.n) + " and cannot change (n=" +
        std::to_string(props->n) +
        " given): this version moves no data for a change of n; name a bucket with another n "
        "when the cluster is made (cluster file or ringkv-cluster start --bucket)");
  }
  const bool merge_changed = props->resolver != current.resolver ||
                             props->plugin_version != current.plugin_version ||
                             props->plugin_hash != current.plugin_hash;
  if (merge_changed && IsMergeResolverName(props->resolver) &&
      (catalog == nullptr ||
       catalog->Find(props->resolver, props->plugin_version, props->plugin_hash) == nullptr)) {
    return Status::InvalidArgument(
        what + ": resolver=" + props->resolver + " (plugin_version " +
        std::to_string(props->plugin_version) + ", plugin_hash '" + props->plugin_hash +
        "') is not a plugin loaded on the claimant " + claimant +
        ": load it on every node first (ringkv-node --plugins, docs/plugins.md)");
  }
  return BucketInfoOf(bucket, *props);
}

}  // namespace ringkv
