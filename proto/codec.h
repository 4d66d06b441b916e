// Encoding of Message (proto/messages.h) as a Cap'n Proto Envelope
// (proto/wire.capnp). See docs/wire-protocol.md.
//
// Decoding never throws and never crashes on hostile bytes: Cap'n Proto's
// exceptions are caught here and become Status::Corruption, and the reader
// runs with traversal and nesting limits sized to the frame cap.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "proto/messages.h"

namespace ringkv {

// The version every envelope carries; both readers (Cap'n Proto's and
// proto/direct_decoder.h) take no other.
inline constexpr uint16_t kProtocolVersion = 1;

// Flat Cap'n Proto bytes (a segment table followed by the segments).
std::string EncodeMessage(const Message& message);

// REQUIRES: nothing; any byte string is accepted and judged.
Result<Message> DecodeMessage(std::string_view bytes);

}  // namespace ringkv
