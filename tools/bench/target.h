// Target: which system ringkv-bench drives, parsed from
// "ringkv://HOST:PORT[,HOST:PORT...]", "http://HOST:PORT[,HOST:PORT...]"
// (ringkv's HTTP API) or "redis://HOST:PORT".
// A value type.
#pragma once

#include <string_view>
#include <vector>

#include "common/host_port.h"
#include "common/status.h"

namespace ringkv::bench {

// Where the runner connects; parsed and printed as any node address is.
using Endpoint = HostPort;

struct Target {
  enum class Kind { kRingkv, kRedis, kHttp } kind = Kind::kRingkv;
  std::vector<Endpoint> endpoints;  // at least one; one for redis
};

// InvalidArgument on an unknown scheme, a missing or bad port, or more than
// one endpoint for redis.
Result<Target> ParseTarget(std::string_view text);

}  // namespace ringkv::bench
