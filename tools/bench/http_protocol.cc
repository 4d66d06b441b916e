#include "tools/bench/http_protocol.h"

#include <charconv>

#include "common/quorum.h"
#include "http/percent.h"

namespace ringkv::bench {
namespace {

// Responses are small here; a header block this long is not HTTP.
constexpr size_t kMaxHeaderBytes = 64 * 1024;

std::string QuorumText(uint32_t q) {
  if (q == kQuorumAll) return "all";
  if (q == kQuorumQuorum) return "quorum";
  return std::to_string(q);
}

std::string Query(std::initializer_list<std::pair<const char*, uint32_t>> quorums,
                  uint32_t timeout_ms) {
  std::string q;
  for (const auto& [name, value] : quorums) {
    if (value != kQuorumDefault) q += (q.empty() ? "?" : "&") + std::string(name) + "=" + QuorumText(value);
  }
  if (timeout_ms != 0) q += (q.empty() ? "?" : "&") + std::string("timeout_ms=") + std::to_string(timeout_ms);
  return q;
}

// The value of header `name` (lower-case) in `headers`, "" when absent.
std::string_view HeaderValue(std::string_view headers, std::string_view name) {
  size_t line = 0;
  while (line < headers.size()) {
    size_t end = headers.find("\r\n", line);
    if (end == std::string_view::npos) end = headers.size();
    const std::string_view h = headers.substr(line, end - line);
    if (h.size() > name.size() && h[name.size()] == ':') {
      bool same = true;
      for (size_t i = 0; i < name.size() && same; ++i) {
        same = std::tolower(static_cast<unsigned char>(h[i])) == name[i];
      }
      if (same) {
        std::string_view v = h.substr(name.size() + 1);
        while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
        return v;
      }
    }
    line = end + 2;
  }
  return {};
}

class HttpFactory : public ProtocolFactory {
 public:
  explicit HttpFactory(RingkvOptions options) : options_(std::move(options)) {}
  std::unique_ptr<Protocol> NewProtocol() override {
    return std::make_unique<HttpProtocol>(options_);
  }

 private:
  RingkvOptions options_;
};

}  // namespace

HttpProtocol::HttpProtocol(RingkvOptions options)
    : options_(std::move(options)),
      bucket_path_("/v1/buckets/" + http::PercentEncode(options_.bucket) + "/keys/"),
      read_query_(Query({{"r", options_.r}, {"pr", options_.pr}}, options_.timeout_ms)),
      write_query_(Query({{"w", options_.w}, {"pw", options_.pw}}, options_.timeout_ms)) {}

void HttpProtocol::Encode(uint64_t, const Request& request, std::string* out) {
  switch (request.kind) {
    case RequestKind::kGet:
      *out += "GET " + bucket_path_ + http::PercentEncode(request.key) + read_query_ +
              " HTTP/1.1\r\nHost: bench\r\n\r\n";
      break;
    case RequestKind::kPut:
      *out += "PUT " + bucket_path_ + http::PercentEncode(request.key) + write_query_ +
              " HTTP/1.1\r\nHost: bench\r\nContent-Length: " + std::to_string(request.value.size()) +
              "\r\n";
      if (!request.context.empty()) *out += "X-Ringkv-Context: " + std::string(request.context) + "\r\n";
      *out += "\r\n";
      out->append(request.value);
      break;
    case RequestKind::kPing:
      *out += "GET /livez HTTP/1.1\r\nHost: bench\r\n\r\n";
      break;
  }
}

Protocol::ParseState HttpProtocol::Parse(std::string_view buf, size_t* consumed, Reply* reply) {
  const size_t end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (buf.size() > kMaxHeaderBytes) {
      reply->error_kind = "protocol";
      return ParseState::kError;
    }
    return ParseState::kNeedMore;
  }
  int status = 0;
  if (buf.size() < 12 || buf.substr(0, 5) != "HTTP/" ||
      std::from_chars(buf.data() + 9, buf.data() + 12, status).ec != std::errc()) {
    reply->error_kind = "protocol";
    return ParseState::kError;
  }
  const std::string_view headers = buf.substr(0, end);
  const std::string_view length_text = HeaderValue(headers, "content-length");
  size_t length = 0;
  if (!length_text.empty() &&
      std::from_chars(length_text.data(), length_text.data() + length_text.size(), length).ec !=
          std::errc()) {
    reply->error_kind = "protocol";
    return ParseState::kError;
  }
  if (buf.size() < end + 4 + length) return ParseState::kNeedMore;
  *consumed = end + 4 + length;
  const std::string_view body = buf.substr(end + 4, length);
  reply->ok = status < 400 || status == 404;
  reply->found = status == 200 || status == 300;
  if (status == 200) {
    reply->value_size = body.size();
    reply->siblings = 1;
  } else if (status == 300) {
    for (size_t at = body.find("\"dot\""); at != std::string_view::npos; at = body.find("\"dot\"", at + 1)) {
      ++reply->siblings;
    }
  }
  if (reply->found) reply->context = std::string(HeaderValue(headers, "x-ringkv-context"));
  if (!reply->ok) {
    reply->error_kind = status == 503   ? "unavailable"
                        : status == 504 ? "timeout"
                                        : "http_" + std::to_string(status);
  }
  return ParseState::kReply;
}

std::unique_ptr<ProtocolFactory> NewHttpProtocolFactory(const RingkvOptions& options) {
  return std::make_unique<HttpFactory>(options);
}

}  // namespace ringkv::bench
