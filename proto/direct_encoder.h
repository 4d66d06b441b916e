// The hot messages written straight into their bytes: client and replica
// gets and puts and their replies, the messages of nearly every operation
// (docs/wire-protocol.md, "Decoding and encoding"). Cap'n Proto's builder
// costs about 2,500 instructions a message (a builder and its zeroed first
// segment, a call per field, a flattening copy, a copy into a string); this
// writes the same Cap'n Proto message, one segment laid out in one pass
// into one string. Not canonical (nothing hashes these), but every reader,
// Cap'n Proto's and proto/direct_decoder.h's, reads the same message from
// it; tests compare both.
#pragma once

#include <optional>
#include <string>

#include "proto/messages.h"

namespace ringkv {

// The flat-array bytes of `message`; nullopt for a type this writer does
// not cover (the caller uses Cap'n Proto's builder then).
std::optional<std::string> EncodeDirect(const Message& message);

}  // namespace ringkv
