#include "tools/bench/target.h"

#include <charconv>

namespace ringkv::bench {
namespace {

Result<Endpoint> ParseEndpoint(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::InvalidArgument("expected HOST:PORT, got '" + std::string(text) + "'");
  }
  Endpoint endpoint;
  endpoint.host = std::string(text.substr(0, colon));
  const std::string_view port = text.substr(colon + 1);
  unsigned value = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535) {
    return Status::InvalidArgument("bad port in '" + std::string(text) + "'");
  }
  endpoint.port = static_cast<uint16_t>(value);
  return endpoint;
}

}  // namespace

Result<Target> ParseTarget(std::string_view text) {
  Target target;
  std::string_view rest;
  if (text.starts_with("ringkv://")) {
    target.kind = Target::Kind::kRingkv;
    rest = text.substr(9);
  } else if (text.starts_with("redis://")) {
    target.kind = Target::Kind::kRedis;
    rest = text.substr(8);
  } else {
    return Status::InvalidArgument("target must start with ringkv:// or redis://");
  }
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view one = rest.substr(0, comma);
    Result<Endpoint> endpoint = ParseEndpoint(one);
    if (!endpoint.ok()) return endpoint.status();
    target.endpoints.push_back(std::move(*endpoint));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  if (target.endpoints.empty()) return Status::InvalidArgument("target names no HOST:PORT");
  if (target.kind == Target::Kind::kRedis && target.endpoints.size() > 1) {
    return Status::InvalidArgument("redis:// takes exactly one HOST:PORT");
  }
  return target;
}

}  // namespace ringkv::bench
