// Hashing helpers over xxHash. Every hash that reaches disk or the wire is
// named here so that its seed and input layout are fixed in one place.
#pragma once

#include <cstdint>
#include <string_view>

namespace ringkv {

// XXH3-64 of `data` with seed 0.
uint64_t Hash64(std::string_view data);

// Position of (bucket, key) on the ring: XXH3-64 over
// varint32(len(bucket)) || bucket || key, seed 0. See docs/storage-format.md.
// DO NOT CHANGE: placement and stored layouts depend on it.
uint64_t KeyHash(std::string_view bucket, std::string_view key);

}  // namespace ringkv
