// Cap'n Proto's own paths of the codec (proto/codec.h): EncodeMessage and
// DecodeMessage take them for every type the direct writer and reader
// (proto/direct_encoder.h, direct_decoder.h) do not cover, and for every
// body the direct reader leaves; tests compare the two paths.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "proto/messages.h"

namespace ringkv {

// The message built by Cap'n Proto's MallocMessageBuilder.
std::string EncodeMessageCapnp(const Message& message);
// The message read by Cap'n Proto's reader; judges any byte string.
Result<Message> DecodeMessageCapnp(std::string_view bytes);

}  // namespace ringkv
