// A minimal HTTP/1.1 client for tests: one request per connection
// (Connection: close), the response read whole. Raw on purpose, so tests can
// also send what no real client would (bad encodings, trickled bytes).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace ringkv::testing {

struct HttpResult {
  int status = 0;  // 0: no response (connection failed or closed early)
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

// Sends `raw` (a whole request, as bytes) to HOST:PORT and reads the reply
// until the server closes or `timeout` passes.
HttpResult HttpRaw(const std::string& address, const std::string& raw,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));

// METHOD PATH (already percent-encoded) with the given headers and body.
HttpResult Http(const std::string& address, const std::string& method, const std::string& path,
                const std::vector<std::pair<std::string, std::string>>& headers = {},
                const std::string& body = "", bool send_length = true);

// Parses an HTTP response from bytes (for HttpRaw and keep-alive loops).
HttpResult ParseHttpResponse(const std::string& bytes);

// Connects to HOST:PORT; -1 on failure. The caller closes it.
int ConnectTo(const std::string& address);

}  // namespace ringkv::testing
