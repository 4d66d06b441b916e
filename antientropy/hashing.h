// The hashes of anti-entropy trees (docs/anti-entropy.md). Which segment a
// key falls in and what its leaf is are fixed by the tree's shape and hash
// version: replicas compare trees only when both numbers match, so a change
// here needs a new version. DO NOT CHANGE the seeds or input layouts.
#pragma once

#include <cstdint>
#include <string_view>

#include "storage/keys.h"

namespace ringkv::aae {

// 256 branches x 256 segments of 64-bit hashes. A key's segment is
// storage/keys.h KeySegment, part of its object key.
inline constexpr uint32_t kShape = 1;
// Version 2: the leaf hashes the key and the body's digest only (version
// 1 also hashed the context, which the canonical body already holds).
inline constexpr uint32_t kHashVersion = 2;
inline constexpr uint32_t kBranches = 256;
inline constexpr uint32_t kSegmentsPerBranch = 256;
inline constexpr uint32_t kSegments = kBranches * kSegmentsPerBranch;
static_assert(kSegments == kKeySegments);

inline uint32_t BranchOf(uint32_t segment) { return segment / kSegmentsPerBranch; }

// The key's leaf: XXH3-64 with the leaf seed over
//   varint32(len(bucket)) bucket varint32(len(key)) key
//   uint64le XXH3-64(body)
// where `body` is the object's canonical encoding, its version vector
// included. Equal objects give equal leaves on every replica; a tombstone
// is hashed like any other object.
uint64_t LeafOf(std::string_view bucket, std::string_view key, std::string_view body);
// The same leaf from XXH3-64(body), which is the checksum of the body's
// object record (storage/record.h): a write knows it without hashing the
// body again.
uint64_t LeafOfDigest(std::string_view bucket, std::string_view key, uint64_t body_digest);

}  // namespace ringkv::aae
