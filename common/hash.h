// Hashing helpers over xxHash. Every hash that reaches disk or the wire is
// named here so that its seed and input layout are fixed in one place.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace ringkv {

// XXH3-64 of `data` with seed 0.
uint64_t Hash64(std::string_view data);

// Position of (bucket, key) on the ring: XXH3-64 over
// varint32(len(bucket)) || bucket || key, seed 0. See docs/storage-format.md.
// DO NOT CHANGE: placement and stored layouts depend on it.
uint64_t KeyHash(std::string_view bucket, std::string_view key);

// XXH3-64 over each part preceded by its length (uint64, host order), so
// that part boundaries count. In-memory use only (never stored or sent).
uint64_t HashParts(std::initializer_list<std::string_view> parts);

}  // namespace ringkv
