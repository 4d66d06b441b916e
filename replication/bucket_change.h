// The claimant's check of `ringkv-admin bucket NAME --set SPEC`
// (docs/ring-changes.md, "Bucket properties"): the properties the ring
// state gets, or why not. Pure: the keeper commits the answer in a new
// epoch (SetBucket, ring/ring_state.h).
#pragma once

#include <string_view>

#include "causality/resolver.h"
#include "common/status.h"
#include "proto/messages.h"
#include "ring/ring_state.h"

namespace ringkv {

// `spec` (ParseBucketProps' "w=3,resolver=lww", any subset) over what
// `name` has in `state` (the defaults when it is not named). Refused,
// InvalidArgument naming the value: a name not of 1 to 255 bytes, an
// empty or malformed spec, n above the members that own partitions, any
// other n than the bucket's (no data moves for a change of n), r or w
// above n, an unknown resolver, and a merge resolver (or pin) that
// `catalog` (the claimant's plugins, `claimant` its id) cannot find.
Result<BucketInfo> CheckBucketChange(const RingState& state, std::string_view name,
                                     std::string_view spec, const ResolverCatalog* catalog,
                                     const NodeId& claimant);

}  // namespace ringkv
