#include "tools/bench/redis_protocol.h"

#include <charconv>

namespace ringkv::bench {
namespace {

void AppendBulk(std::string_view s, std::string* out) {
  out->push_back('$');
  out->append(std::to_string(s.size()));
  out->append("\r\n");
  out->append(s);
  out->append("\r\n");
}

// The line at the start of `buf` without its CRLF; npos-free: returns false
// when no CRLF yet.
bool Line(std::string_view buf, std::string_view* line, size_t* next) {
  const size_t end = buf.find("\r\n");
  if (end == std::string_view::npos) return false;
  *line = buf.substr(0, end);
  *next = end + 2;
  return true;
}

class RedisFactory : public ProtocolFactory {
 public:
  std::unique_ptr<Protocol> NewProtocol() override { return std::make_unique<RedisProtocol>(); }
};

}  // namespace

void RedisProtocol::Encode(uint64_t id, const Request& request, std::string* out) {
  switch (request.kind) {
    case RequestKind::kGet:
      out->append("*2\r\n$3\r\nGET\r\n");
      AppendBulk(request.key, out);
      break;
    case RequestKind::kPut:
      out->append("*3\r\n$3\r\nSET\r\n");
      AppendBulk(request.key, out);
      AppendBulk(request.value, out);
      break;
    case RequestKind::kPing:
      out->append("*1\r\n$4\r\nPING\r\n");
      break;
  }
}

Protocol::ParseState RedisProtocol::Parse(std::string_view buf, size_t* consumed, Reply* reply) {
  std::string_view line;
  size_t next = 0;
  if (!Line(buf, &line, &next)) {
    // A reply line is short; a long run of bytes without CRLF is garbage.
    if (buf.size() > 64 * 1024) {
      reply->error_kind = "protocol";
      return ParseState::kError;
    }
    return ParseState::kNeedMore;
  }
  if (line.empty()) {
    reply->error_kind = "protocol";
    return ParseState::kError;
  }
  const std::string_view rest = line.substr(1);
  switch (line[0]) {
    case '+':  // +OK, +PONG
    case ':':
      reply->ok = true;
      *consumed = next;
      return ParseState::kReply;
    case '-':
      reply->ok = false;
      reply->error_kind = "redis_error";
      *consumed = next;
      return ParseState::kReply;
    case '$': {
      int64_t len = 0;
      auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), len);
      if (ec != std::errc() || p != rest.data() + rest.size() || len < -1) {
        reply->error_kind = "protocol";
        return ParseState::kError;
      }
      reply->ok = true;
      if (len == -1) {
        reply->found = false;
        *consumed = next;
        return ParseState::kReply;
      }
      const size_t total = next + static_cast<size_t>(len) + 2;
      if (buf.size() < total) return ParseState::kNeedMore;
      if (buf.substr(total - 2, 2) != "\r\n") {
        reply->error_kind = "protocol";
        return ParseState::kError;
      }
      reply->found = true;
      reply->value_size = static_cast<size_t>(len);
      reply->siblings = 1;
      *consumed = total;
      return ParseState::kReply;
    }
    default:
      reply->error_kind = "protocol";
      return ParseState::kError;
  }
}

std::unique_ptr<ProtocolFactory> NewRedisProtocolFactory() {
  return std::make_unique<RedisFactory>();
}

}  // namespace ringkv::bench
