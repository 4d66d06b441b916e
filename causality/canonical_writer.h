// Canonical Cap'n Proto bytes of objects and contexts written directly, for
// the shapes every write has (docs/storage-format.md): what
// capnp::canonicalize would give, without building a message, copying it
// and checking the copy (about 10,000 instructions an object).
//
// A shape this writer does not cover returns nullopt, and the caller takes
// Cap'n Proto's path: an empty clock, value or node name, a zero counter,
// incarnation or key hash (zero-sized objects and truncated sections, whose
// canonical forms are Cap'n Proto's to decide). Tests compare both paths
// byte for byte. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "causality/object.h"

namespace ringkv {

// The schema::Object of `object` with version `version`.
std::optional<std::string> WriteCanonicalObject(const Object& object, uint16_t version);
// The schema::Context with `version`, `clock` as its entries and `key_hash`.
std::optional<std::string> WriteCanonicalContext(const VersionVector& clock, uint16_t version,
                                                 uint64_t key_hash);
// The same bytes appended to `*out` (no allocation once it has the room);
// false, with `*out` unchanged, for a shape this writer does not cover.
bool AppendCanonicalContext(std::string* out, const VersionVector& clock, uint16_t version,
                            uint64_t key_hash);
}  // namespace ringkv
