// Encoding of Message (proto/messages.h) as a Cap'n Proto Envelope
// (proto/wire.capnp). See docs/wire-protocol.md.
//
// Decoding never throws and never crashes on hostile bytes: Cap'n Proto's
// exceptions are caught here and become Status::Corruption, and the reader
// runs with traversal and nesting limits sized to the frame cap.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "proto/messages.h"

namespace ringkv {

// Flat Cap'n Proto bytes (a segment table followed by the segments). The
// hot message types are written directly (proto/direct_encoder.h).
std::string EncodeMessage(const Message& message);
// Cap'n Proto's builder alone: EncodeMessage's way for the other types,
// and what tests compare the direct writer with.
std::string EncodeMessageCapnp(const Message& message);

// REQUIRES: nothing; any byte string is accepted and judged. The hot
// message types are read directly (proto/direct_decoder.h) when they can
// be; everything else, and anything that reader leaves, by Cap'n Proto.
Result<Message> DecodeMessage(std::string_view bytes);
// Cap'n Proto's reader alone: DecodeMessage's judge of what the direct
// reader does not take, and what tests compare that reader with.
Result<Message> DecodeMessageCapnp(std::string_view bytes);

}  // namespace ringkv
