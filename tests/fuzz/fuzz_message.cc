// Every wire message decoder (proto/codec.h): DecodeMessage dispatches on
// the envelope's union, so one target reaches them all; the corpus holds
// one seed per message type.
#include <string>
#include <string_view>
#include <variant>

#include "causality/object_codec.h"
#include "proto/codec.h"
#include "tests/fuzz/targets.h"

namespace ringkv::fuzz {

int FuzzMessage(const uint8_t* data, size_t size) {
  Result<Message> decoded =
      DecodeMessage(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!decoded.ok()) {
    RINGKV_FUZZ_CHECK(!decoded.status().message().empty());
    return 0;
  }
  // A put's context is opaque to the codec; the coordinator decodes it next.
  if (const auto* put = std::get_if<PutRequest>(&decoded->body)) {
    Result<ClientContext> context = DecodeContext(put->context);
    if (context.ok()) {
      RINGKV_FUZZ_CHECK(
          DecodeContext(EncodeContext(context->clock, put->bucket, put->key))->clock ==
          context->clock);
    }
  }
  // What was accepted must re-encode to bytes that decode again, and that
  // second form must be stable (compared as bytes: a NaN phi or metric value
  // is never equal to itself).
  const std::string once = EncodeMessage(*decoded);
  Result<Message> again = DecodeMessage(once);
  RINGKV_FUZZ_CHECK(again.ok());
  RINGKV_FUZZ_CHECK(EncodeMessage(*again) == once);
  return 0;
}

}  // namespace ringkv::fuzz
