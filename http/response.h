// Response: what a handler answers, before it meets evhttp, so handlers are
// tested without sockets.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ringkv::http {

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  // Besides Content-Type.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The value of header `name` (exact case), "" when absent.
  std::string Header(const std::string& name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return "";
  }
};

}  // namespace ringkv::http
