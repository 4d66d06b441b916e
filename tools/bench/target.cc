#include "tools/bench/target.h"

namespace ringkv::bench {

Result<Target> ParseTarget(std::string_view text) {
  Target target;
  std::string_view rest;
  if (text.starts_with("ringkv://")) {
    target.kind = Target::Kind::kRingkv;
    rest = text.substr(9);
  } else if (text.starts_with("redis://")) {
    target.kind = Target::Kind::kRedis;
    rest = text.substr(8);
  } else if (text.starts_with("http://")) {
    target.kind = Target::Kind::kHttp;
    rest = text.substr(7);
  } else {
    return Status::InvalidArgument("target must start with ringkv://, http:// or redis://");
  }
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view one = rest.substr(0, comma);
    Result<Endpoint> endpoint = ParseHostPort(one);
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
