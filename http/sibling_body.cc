#include "http/sibling_body.h"

#include <nlohmann/json.hpp>

#include "client/context_text.h"
#include "common/hash.h"

namespace ringkv::http {

std::string DotText(const Dot& dot) {
  return dot.actor.node + ":" + std::to_string(dot.counter);
}

bool IsValidUtf8(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    int extra = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= bytes.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(bytes[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF.
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

std::string SiblingsJson(const std::vector<const Sibling*>& values, std::string_view context) {
  nlohmann::json siblings = nlohmann::json::array();
  for (const Sibling* s : values) {
    nlohmann::json one = {{"dot", DotText(s->dot)},
                          {"timestamp_us", s->timestamp_us},
                          {"value_b64", Base64UrlEncode(s->value)}};
    if (IsValidUtf8(s->value)) one["value"] = s->value;
    siblings.push_back(std::move(one));
  }
  nlohmann::json body = {{"context", context}, {"siblings", std::move(siblings)}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Multipart SiblingsMultipart(const std::vector<const Sibling*>& values) {
  Multipart out;
  std::string joined;
  for (const Sibling* s : values) joined += s->value;
  const uint64_t hash = Hash64(joined);
  for (uint64_t seed = 0;; ++seed) {
    out.boundary = "ringkv-" + std::to_string(hash + seed);
    bool clash = false;
    for (const Sibling* s : values) clash = clash || s->value.find(out.boundary) != std::string::npos;
    if (!clash) break;
  }
  for (const Sibling* s : values) {
    out.body += "--" + out.boundary + "\r\n";
    out.body += "Content-Type: application/octet-stream\r\n";
    out.body += "X-Ringkv-Dot: " + DotText(s->dot) + "\r\n\r\n";
    out.body += s->value;
    out.body += "\r\n";
  }
  out.body += "--" + out.boundary + "--\r\n";
  return out;
}

}  // namespace ringkv::http
