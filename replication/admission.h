// Admission: the checks of an incoming write that need this node's state,
// after the request's own bounds (proto/request_limits.h) passed. Together
// they keep any one request from breaking a key (docs/limits.md,
// docs/causality.md "Counters"):
// - a context belongs to the key it was read from, and its counters are
//   bounded, so the next dot can never wrap;
// - a coordinator's own entry in a context can never be ahead of what it
//   has minted for the key;
// - a coordinated write cannot make the key's object larger than the cap;
// - a hint names a member, and timestamps are not far in the future.
// Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "causality/object.h"
#include "common/status.h"
#include "common/transport.h"
#include "ring/ring.h"

namespace ringkv {

// How far ahead of this node's wall clock a write's timestamp may be: a
// node whose clock runs a day fast is broken, and an LWW bucket would let
// its writes win over every later one.
inline constexpr int64_t kMaxClockAheadUs = int64_t{24} * 3600 * 1'000'000;

// The client context `bytes` of a write to (bucket, key): decodes, is bound
// to that key (or unbound, version 1), every counter at most kMaxDotCounter.
// InvalidArgument saying which.
Result<VersionVector> AdmitContext(std::string_view bytes, std::string_view bucket,
                                   std::string_view key);

// Before `self` coordinates a write with `context` over `local` (the stored
// object, if any): `self`'s own entry in the context is at most what
// `local` records for it, which is everything it minted for this key (it
// stores a dot before anyone can see it).
Status AdmitCoordination(const Actor& self, const VersionVector& context, const Object* local);

// After: `updated` (the write applied to `local`) is at most kMaxObjectBytes,
// or no larger than `local`, or the write is a delete, which must always be
// able to clear a key. ObjectTooLarge otherwise.
Status AdmitCoordinatedSize(const Object* local, const Object& updated, bool tombstone,
                            std::string_view bucket, std::string_view key);

// After: `updated` holds at most `max_siblings` siblings (values and
// tombstones), or no more than `local`, so a write with a fresh context
// always works on a key past the cap. TooManySiblings naming the key
// otherwise.
Status AdmitSiblingCount(const Object* local, const Object& updated, uint32_t max_siblings,
                         std::string_view bucket, std::string_view key);

// A conditional put with `context` over `local`: every sibling of `local`
// is covered by the context, so the write leaves none beside it.
// PreconditionFailed naming the key otherwise.
Status AdmitIfMatch(const Object* local, const VersionVector& context, std::string_view bucket,
                    std::string_view key);

// A merge of a replica write into `local` gave `merged`: at most
// kMaxMergedObjectBytes, or no larger than `local`. ObjectTooLarge otherwise.
Status AdmitMergedSize(const Object* local, const Object& merged);

// Every sibling's timestamp in 0 .. now + kMaxClockAheadUs.
Status AdmitTimestamps(const Object& object, int64_t now_wall_us);
Status AdmitTimestamp(int64_t timestamp_us, int64_t now_wall_us);

// A replica write's hint target: empty, or a member of `ring`.
Status AdmitHintTarget(const NodeId& hint_for, const Ring& ring);

}  // namespace ringkv
