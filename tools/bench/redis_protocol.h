// RedisProtocol: RESP2 GET / SET / PING, the Redis baseline of ringkv-bench.
// Replies arrive in request order, so many requests may be pipelined on one
// connection. Not thread-safe (one per connection).
#pragma once

#include <memory>

#include "tools/bench/protocol.h"

namespace ringkv::bench {

class RedisProtocol : public Protocol {
 public:
  void Encode(uint64_t id, const Request& request, std::string* out) override;
  ParseState Parse(std::string_view buf, size_t* consumed, Reply* reply) override;
  bool ordered() const override { return true; }
};

std::unique_ptr<ProtocolFactory> NewRedisProtocolFactory();

}  // namespace ringkv::bench
