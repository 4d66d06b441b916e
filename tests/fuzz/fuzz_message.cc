// Every wire message decoder (proto/codec.h): DecodeMessage dispatches on
// the envelope's union, so one target reaches them all, the direct reader
// of the hot messages (compared with Cap'n Proto's) too; the corpus holds
// one seed per message type.
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "causality/object_codec.h"
#include "proto/codec.h"
#include "proto/codec_capnp.h"
#include "proto/direct_decoder.h"
#include "tests/fuzz/targets.h"

namespace ringkv::fuzz {

int FuzzMessage(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The direct reader of the hot messages takes nothing that Cap'n Proto's
  // path refuses or reads otherwise.
  if (std::optional<Message> direct = DecodeDirect(bytes)) {
    Result<Message> capnp = DecodeMessageCapnp(bytes);
    RINGKV_FUZZ_CHECK(capnp.ok() && *capnp == *direct);
  }
  Result<Message> decoded = DecodeMessage(bytes);
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
