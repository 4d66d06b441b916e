// The limits every object and clock must meet wherever it enters a node (a
// client's context, a peer's replica write, a hint handed back), and the
// size of an object by which the per-key cap is enforced. All of them are
// listed, with their reasons, in docs/limits.md. Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

#include "causality/object.h"
#include "common/status.h"

namespace ringkv {

// One value (one sibling's bytes).
inline constexpr size_t kMaxValueBytes = 4u << 20;
// A coordinated write whose result would be larger than this (ObjectSize) is
// refused with ObjectTooLarge, unless it is a delete: three values of the
// largest size fit, a fourth does not.
inline constexpr size_t kMaxObjectBytes = 13u << 20;
// No node stores by a merge, sends or accepts an object larger than this:
// with the bucket, key and envelope it always fits the 16 MiB frame
// (proto/frame.h). Merges of copies coordinated apart (a partition) may pass
// kMaxObjectBytes up to here.
inline constexpr size_t kMaxMergedObjectBytes = 15u << 20;
// Largest counter a clock or dot may hold. Far above any count of writes a
// key can see (2^62 writes at a million a second take 146,000 years), far
// enough below 2^64 that minting the next dot can never wrap.
inline constexpr uint64_t kMaxDotCounter = uint64_t{1} << 62;
// An actor's node id, as the ring's member ids.
inline constexpr size_t kMaxNodeIdBytes = 255;

// An upper bound of the object's encoded size (object.capnp): 64 bytes, plus
// 48 and the node id per context entry, plus 96, the node id and the value
// per sibling.
size_t ObjectSize(const Object& object);

// Every counter at most kMaxDotCounter and every actor's node id 1..
// kMaxNodeIdBytes bytes. InvalidArgument naming the first that is not.
Status CheckClockLimits(const VersionVector& clock);

// CheckClockLimits for the context and every dot, each value at most
// kMaxValueBytes (InvalidArgument), and the whole at most
// kMaxMergedObjectBytes (ObjectTooLarge).
Status CheckObjectLimits(const Object& object);

}  // namespace ringkv
