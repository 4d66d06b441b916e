// The page at / (docs/http-api.md "The page"): one self-contained HTML
// document, with its script and style inline and nothing fetched from
// elsewhere (a node may have no internet), that polls GET /v1/ring and
// draws the ring live. page.html is compiled into the binary.
#pragma once

#include <string_view>

namespace ringkv::http {

std::string_view PageHtml();

}  // namespace ringkv::http
