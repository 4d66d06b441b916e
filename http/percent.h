// Percent-encoding of URL path segments and query values (RFC 3986 2.1).
// Keys and buckets are bytes: a client writes every byte outside the
// unreserved set as %XX, so '/', '+', '%' and non-ASCII bytes round-trip.
// Decoding is strict ('%' not followed by two hex digits is an error) and
// never turns '+' into a space, so "a+b" is the three bytes it looks like.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace ringkv::http {

// InvalidArgument on a '%' without two hex digits after it.
Result<std::string> PercentDecode(std::string_view text);
// Every byte but A-Z a-z 0-9 - . _ ~ as %XX (upper-case hex).
std::string PercentEncode(std::string_view bytes);

}  // namespace ringkv::http
