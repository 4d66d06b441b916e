// The bodies of a read: every sibling as JSON (the default) or as
// multipart/mixed (RFC 2046, one part per sibling with its raw bytes), and
// the JSON form of one value. Values are bytes: JSON carries each as
// base64 in "value_b64" and, when the bytes are valid UTF-8, as text in
// "value" too. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "causality/object.h"

namespace ringkv::http {

// {"context": TEXT, "siblings": [{"dot","timestamp_us","value","value_b64"}]}
std::string SiblingsJson(const std::vector<const Sibling*>& values, std::string_view context);

struct Multipart {
  std::string boundary;  // absent from every value
  std::string body;
};
Multipart SiblingsMultipart(const std::vector<const Sibling*>& values);

// "n1:17": the node that coordinated the write and its counter.
std::string DotText(const Dot& dot);

bool IsValidUtf8(std::string_view bytes);

}  // namespace ringkv::http
