// The text form of an opaque client context, for command lines, JSON and
// HTTP: base64url (RFC 4648 §5) of the encoded Context bytes, without
// padding. The empty context is the empty string. Pure functions;
// thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace ringkv {

std::string Base64UrlEncode(std::string_view bytes);
// Accepts the url alphabet with or without '=' padding. InvalidArgument on
// any other character or an impossible length.
Result<std::string> Base64UrlDecode(std::string_view text);

// Context bytes (GetResult::context) -> text.
std::string ContextToText(std::string_view context);
// Text -> context bytes, checked to decode as a Context (InvalidArgument
// otherwise), so a mangled context is refused before it reaches a node.
Result<std::string> ContextFromText(std::string_view text);

}  // namespace ringkv
