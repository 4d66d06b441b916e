// Typed JSON errors (docs/http-api.md "Errors"): every refusal is
// {"error": CODE, "message": TEXT} with the HTTP status that code has, so a
// client branches on the code, never on the text.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "http/response.h"

namespace ringkv::http {

// `code` is one of the codes of docs/http-api.md; `message` may hold any
// bytes (invalid UTF-8 is replaced, so the body is always valid JSON).
Response ErrorResponse(int status, std::string_view code, std::string_view message);

// The response for a request the node answered with `status` (not OK):
// invalid_argument -> 400 bad_request, not_found -> 404, object_too_large
// -> 413, unavailable -> 503 quorum_unavailable (with Retry-After), busy ->
// 503, timeout -> 504, anything else -> 500 internal.
Response ErrorFromStatus(const Status& status);

// Reason phrase of the statuses this server sends ("Multiple Choices").
const char* ReasonPhrase(int status);

}  // namespace ringkv::http
