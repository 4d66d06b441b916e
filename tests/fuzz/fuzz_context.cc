// The client context, in both forms it arrives in: the text a user passes
// to the CLI or the client library (client/context_text.h), and the bytes
// a put request carries to the coordinator (DecodeContext).
#include <string>
#include <string_view>

#include "causality/object_codec.h"
#include "client/context_text.h"
#include "tests/fuzz/targets.h"

namespace ringkv::fuzz {

int FuzzContext(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  Result<std::string> base64 = Base64UrlDecode(input);
  if (base64.ok()) {
    std::string_view unpadded = input;
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.remove_suffix(1);
    RINGKV_FUZZ_CHECK(Base64UrlEncode(*base64) == unpadded);
  }
  RINGKV_FUZZ_CHECK(*Base64UrlDecode(Base64UrlEncode(input)) == input);

  Result<std::string> from_text = ContextFromText(input);
  if (from_text.ok()) {
    RINGKV_FUZZ_CHECK(base64.ok() && *from_text == *base64);
    RINGKV_FUZZ_CHECK(DecodeContext(*from_text).ok());
  }

  Result<ClientContext> context = DecodeContext(input);
  if (context.ok()) {
    const std::string encoded = EncodeContext(context->clock, "b", "k");
    Result<ClientContext> again = DecodeContext(encoded);
    RINGKV_FUZZ_CHECK(again.ok());
    RINGKV_FUZZ_CHECK(again->clock == context->clock);
    RINGKV_FUZZ_CHECK(encoded.empty() || CheckContextKey(*again, "b", "k").ok());
    RINGKV_FUZZ_CHECK(ContextFromText(ContextToText(encoded)).ok());
  }
  return 0;
}

}  // namespace ringkv::fuzz
